//! Income reporting to the tax authority (国务院令第810号《互联网平台企业涉税信息报送规定》, in
//! force 2025-06-20; fields per 国家税务总局公告2025年第15号): each quarter, per seller, who they
//! are and what they earned through the platform in the quarter before.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};

use super::ids::UserId;

/// A calendar quarter in China time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quarter {
    pub year: i32,
    /// 1–4.
    pub q: u32,
}

impl Quarter {
    /// The quarter `t` falls in (China time).
    pub fn containing(t: DateTime<Utc>) -> Quarter {
        let local = super::china_time(t);
        Quarter {
            year: local.year(),
            q: local.month0() / 3 + 1,
        }
    }

    pub fn previous(self) -> Quarter {
        if self.q == 1 {
            Quarter {
                year: self.year - 1,
                q: 4,
            }
        } else {
            Quarter {
                year: self.year,
                q: self.q - 1,
            }
        }
    }

    fn start_of(year: i32, q: u32) -> DateTime<Utc> {
        let day = NaiveDate::from_ymd_opt(year, (q - 1) * 3 + 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default();
        chrono::FixedOffset::east_opt(8 * 3600)
            .and_then(|cn| cn.from_local_datetime(&day).single())
            .map_or_else(|| day.and_utc(), |t| t.with_timezone(&Utc))
    }

    /// `[start, end)` in UTC: China midnight on the quarter's first day to the next quarter's.
    pub fn bounds(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let next = if self.q == 4 {
            Quarter::start_of(self.year + 1, 1)
        } else {
            Quarter::start_of(self.year, self.q + 1)
        };
        (Quarter::start_of(self.year, self.q), next)
    }

    /// `2026Q3`.
    pub fn label(&self) -> String {
        format!("{}Q{}", self.year, self.q)
    }

    pub fn parse(s: &str) -> Option<Quarter> {
        let (y, q) = s.split_once('Q')?;
        let q: u32 = q.parse().ok().filter(|q| (1..=4).contains(q))?;
        Some(Quarter {
            year: y.parse().ok().filter(|y| (2000..=2999).contains(y))?,
            q,
        })
    }

    /// The first and last day, as the report's 所属期 shows them.
    pub fn period(&self) -> (String, String) {
        let (start, end) = self.bounds();
        let last = end - chrono::Duration::days(1);
        (
            super::china_time(start).format("%Y-%m-%d").to_string(),
            super::china_time(last).format("%Y-%m-%d").to_string(),
        )
    }
}

/// One seller's income from orders settled in a quarter, in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SellerIncome {
    /// Orders released (completed or settled by an operator) in the quarter.
    pub orders: u32,
    /// 收入总额: what the buyers paid for those orders.
    pub gross_fen: i64,
    /// 退款金额: what went back to the buyers of those orders.
    pub refunds_fen: i64,
    /// 平台收取的服务费: the platform's commission.
    pub commission_fen: i64,
    /// 收入净额: what the seller earned (gross − refunds − commission).
    pub net_fen: i64,
}

impl SellerIncome {
    /// Adds one settled order: its total, what was refunded of it, the commission on the rest.
    pub fn add(&mut self, total_fen: i64, refunded_fen: i64, commission_fen: i64) {
        self.orders += 1;
        self.gross_fen += total_fen;
        self.refunds_fen += refunded_fen;
        self.commission_fen += commission_fen;
        self.net_fen += total_fen - refunded_fen - commission_fen;
    }
}

/// The seller's identity as the report carries it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaxIdentity {
    pub real_name: String,
    pub id_number: String,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxRow {
    pub seller_id: UserId,
    pub username: String,
    /// `None`: the seller never completed 实名认证 (the line says so; operators follow up).
    pub identity: Option<TaxIdentity>,
    pub income: SellerIncome,
}

fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

/// The report's columns: identity (平台内用户名称, 唯一标识, 姓名, 证件类型, 证件号码, 国家或地区),
/// the period, and income from services (收入类型 劳务/经营收入: 收入总额, 退款金额, 平台服务费,
/// 收入净额, 交易笔数).
pub const COLUMNS: [&str; 15] = [
    "序号",
    "平台内用户名称",
    "平台内唯一标识码",
    "姓名",
    "证件类型",
    "证件号码",
    "国家或地区",
    "所属期起",
    "所属期止",
    "收入类型",
    "收入总额",
    "退款金额",
    "平台收取的服务费",
    "收入净额",
    "交易笔数",
];

/// The report's records (after the header), one per seller, amounts in yuan.
pub fn records(quarter: &Quarter, rows: &[TaxRow]) -> Vec<[String; 15]> {
    let (from, to) = quarter.period();
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let (name, kind, number) = match &r.identity {
                Some(id) => (
                    id.real_name.clone(),
                    "居民身份证".to_owned(),
                    id.id_number.clone(),
                ),
                None => ("（未实名认证）".to_owned(), String::new(), String::new()),
            };
            [
                (i + 1).to_string(),
                r.username.clone(),
                r.seller_id.to_string(),
                name,
                kind,
                number,
                "中国".to_owned(),
                from.clone(),
                to.clone(),
                "提供服务取得的收入".to_owned(),
                yuan(r.income.gross_fen),
                yuan(r.income.refunds_fen),
                yuan(r.income.commission_fen),
                yuan(r.income.net_fen),
                r.income.orders.to_string(),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_are_china_time_and_roll_over_the_year() {
        // 2026-03-31 20:00 UTC is already 2026-04-01 in China.
        let t = Utc.with_ymd_and_hms(2026, 3, 31, 20, 0, 0).unwrap();
        assert_eq!(Quarter::containing(t), Quarter { year: 2026, q: 2 });
        assert_eq!(
            Quarter { year: 2026, q: 1 }.previous(),
            Quarter { year: 2025, q: 4 }
        );
        let (start, end) = Quarter { year: 2025, q: 4 }.bounds();
        assert_eq!(start, Utc.with_ymd_and_hms(2025, 9, 30, 16, 0, 0).unwrap());
        assert_eq!(end, Utc.with_ymd_and_hms(2025, 12, 31, 16, 0, 0).unwrap());
        assert_eq!(
            Quarter { year: 2025, q: 4 }.period(),
            ("2025-10-01".into(), "2025-12-31".into())
        );
        assert_eq!(Quarter::parse("2026Q3"), Some(Quarter { year: 2026, q: 3 }));
        for bad in ["2026Q5", "Q1", "26Q1", "2026-Q1", ""] {
            assert_eq!(Quarter::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn income_adds_up_and_records_read_in_yuan() {
        let mut i = SellerIncome::default();
        i.add(19_900, 0, 3_980);
        i.add(19_900, 7_960, 2_388);
        assert_eq!(i.net_fen, 15_920 + 9_552);
        let rows = [TaxRow {
            seller_id: UserId::new(),
            username: "li_lei".into(),
            identity: Some(TaxIdentity {
                real_name: "李雷".into(),
                id_number: "110101199003076518".into(),
            }),
            income: i,
        }];
        let r = &records(&Quarter { year: 2026, q: 4 }, &rows)[0];
        assert_eq!(r[3], "李雷");
        assert_eq!(
            (&r[10][..], &r[11][..], &r[12][..], &r[13][..], &r[14][..]),
            ("398.00", "79.60", "63.68", "254.72", "2")
        );
    }
}
