//! Wire names are spelled twice in many enums: by serde (what the API and the table carry) and
//! by `as_str`/`parse` (what keys, query parameters and messages use). This test holds them
//! together: every variant (the `match` fails to compile when one is added and not listed here)
//! has `as_str` equal to its serde name, and `parse` gives the variant back.

macro_rules! wire {
    (@parse true, $t:ident, $v:ident) => {
        assert_eq!($t::parse($v.as_str()), Some($v), "{:?}", $v);
    };
    (@parse false, $t:ident, $v:ident) => {};
    (@serde true, $v:ident) => {
        let serde = serde_json::to_value(&$v).expect("serialises");
        assert_eq!(serde.as_str(), Some($v.as_str()), "{:?}", $v);
    };
    (@serde false, $v:ident) => {};
    ($t:path { $($v:ident),+ $(,)? }, serde: $serde:tt, parse: $parse:tt) => {{
        use $t as T;
        #[allow(dead_code)]
        fn every_variant_is_listed(x: T) {
            match x {
                $(T::$v)|+ => {}
            }
        }
        for v in [$(T::$v),+] {
            wire!(@serde $serde, v);
            wire!(@parse $parse, T, v);
        }
    }};
}

#[test]
fn every_enum_spells_its_wire_names_once() {
    wire!(crate::app::services::ModerationAction { Approve, Reject, Feature, Unfeature }, serde: false, parse: true);
    wire!(crate::app::admin::UserAction { Ban, Unban, Verify, Unverify, Restrict, Unrestrict }, serde: false, parse: true);
    wire!(crate::domain::order::OrderStatus { Pending, InProgress, Delivered, Completed, Cancelled, Disputed }, serde: true, parse: true);
    wire!(crate::domain::ledger::PlatformAccount { Revenue, Clearing }, serde: true, parse: false);
    wire!(crate::domain::ledger::Bucket { Available, Frozen, PendingClearance }, serde: true, parse: false);
    wire!(crate::domain::ledger::MovementKind { Deposit, EscrowFreeze, EscrowRelease, EscrowRefund, EscrowSplit, WithdrawalHold, WithdrawalPayout, WithdrawalReturn, Clearance, RefundCredited, SplitPayout, Tip }, serde: true, parse: false);
    wire!(crate::domain::user::UserType { Freelancer, Client, Admin }, serde: true, parse: true);
    wire!(crate::domain::user::Role { Buyer, Seller, Admin }, serde: true, parse: true);
    wire!(crate::domain::user::UserStatus { Active, Banned, Deactivated }, serde: true, parse: false);
    wire!(crate::domain::user::VerificationStatus { Pending, Approved, Rejected }, serde: true, parse: true);
    wire!(crate::domain::user::SellerLevel { New, LevelOne, LevelTwo, TopRated }, serde: true, parse: false);
    wire!(crate::domain::messaging::MessageKind { Text, File, Image, System, Offer }, serde: true, parse: false);
    wire!(crate::domain::report::TargetType { Service, User, Review, Message }, serde: true, parse: true);
    wire!(crate::domain::report::Reason { Spam, Fraud, OffPlatformContact, Inappropriate, Harassment, Infringement, FakeReview, MultipleAccounts, Other }, serde: true, parse: false);
    wire!(crate::domain::report::ReportStatus { Pending, Resolved, Dismissed }, serde: true, parse: true);
    wire!(crate::domain::report::Sanction { None, HideReview, PauseService, BanUser }, serde: true, parse: true);
    wire!(crate::domain::payment::Gateway { Alipay, Wechat }, serde: true, parse: false);
    wire!(crate::domain::refund::RefundStatus { Pending, Processing, Succeeded, Credited }, serde: true, parse: false);
    wire!(crate::domain::payment::Channel { Page, Wap, Native, Jsapi }, serde: true, parse: false);
    wire!(crate::domain::payment::ChargeStatus { Pending, Paid, Credited, Refunded }, serde: true, parse: false);
    wire!(crate::domain::payment::PayoutMethod { Alipay, Wechat, Bank }, serde: true, parse: true);
    wire!(crate::domain::payment::WithdrawalStatus { Pending, Processing, Paid, Failed, Rejected }, serde: true, parse: true);
    wire!(crate::domain::service::ServiceStatus { Draft, Active, Paused, Rejected, Deleted }, serde: true, parse: true);
    wire!(crate::domain::service::ServiceType { Fixed, Hourly, Package }, serde: true, parse: true);
    wire!(crate::domain::service::Tier { Basic, Standard, Premium }, serde: true, parse: true);
}
