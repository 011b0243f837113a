//! Every key of the single table, in one place. See `docs/data-model.md`.

use chrono::{DateTime, Utc};

use crate::domain::ledger::Account;
use crate::domain::order::{OrderStatus, TimerKind};
use crate::domain::payment::{Gateway, WithdrawalStatus};
use crate::domain::service::ServiceStatus;
use crate::domain::user::Social;
use crate::domain::{
    AuditId, ConversationId, FileId, MessageId, NotificationId, OrderId, OrderStepId, ReportId,
    ReviewId, ServiceId, SessionId, UserId, UserStatus, VerificationId, VerificationStatus,
    WithdrawalId,
};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";

/// A base-table key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

fn key(pk: String, sk: &str) -> Key {
    Key {
        pk,
        sk: sk.to_owned(),
    }
}

/// `USER#{id} / USER`: the account with its profile.
pub fn user(id: UserId) -> Key {
    key(format!("USER#{id}"), "USER")
}

pub const GSI2: &str = "GSI2";

/// Every user, newest first, for the operators' list: `GSI1PK=USERS`,
/// `GSI1SK={created_at}#{id}` (type and verified are filters on this partition).
pub const GSI1_USERS: &str = "USERS";

/// Users who are not active (banned, deactivated): `GSI2PK=USERSTATUS#{status}`, same sort.
pub fn gsi2_users_by_status(status: UserStatus) -> String {
    format!("USERSTATUS#{}", status.as_str())
}

pub fn user_list_sort(created_at: DateTime<Utc>, id: UserId) -> String {
    format!(
        "{}#{id}",
        created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    )
}

/// `UNIQUE#IDNUM#{blind index}`: one identity number verifies one account.
pub fn unique_id_number(blind_index: &str) -> Key {
    key(format!("UNIQUE#IDNUM#{blind_index}"), "UNIQUE")
}

/// `SMS#{phone}#{slot} / CODE`: the one live code for a phone and purpose.
pub fn sms_code(phone: &str, slot: &str) -> Key {
    key(format!("SMS#{phone}#{slot}"), "CODE")
}

/// `TOKEN#{purpose}#{sha256(token)} / TOKEN`: a single-use emailed token.
pub fn token(purpose: &str, hash: &str) -> Key {
    key(format!("TOKEN#{purpose}#{hash}"), "TOKEN")
}

/// `VERIFICATION#{id} / VERIFICATION`: one 实名认证 submission.
pub fn verification(id: VerificationId) -> Key {
    key(format!("VERIFICATION#{id}"), "VERIFICATION")
}

/// The review queue: `GSI1PK=VERIFICATIONS#{status}`, `GSI1SK={submitted_at}#{id}`.
pub fn gsi1_verifications(status: VerificationStatus) -> String {
    format!("VERIFICATIONS#{}", status.as_str())
}

/// `AUDIT#{yyyy-mm} / {audit id}`: the operators' audit log, by month.
pub fn audit(at: DateTime<Utc>, id: AuditId) -> Key {
    key(format!("AUDIT#{}", at.format("%Y-%m")), &id.to_string())
}

/// Everything done to one target: `GSI1PK=AUDIT#TARGET#{target}`, `GSI1SK={audit id}`.
pub fn gsi1_audit_target(target: &str) -> String {
    format!("AUDIT#TARGET#{target}")
}

/// Uniqueness guards, written in the same transaction as the user.
pub fn unique_username(canonical: &str) -> Key {
    key(format!("UNIQUE#USERNAME#{canonical}"), "UNIQUE")
}

pub fn unique_email(email: &str) -> Key {
    key(format!("UNIQUE#EMAIL#{email}"), "UNIQUE")
}

pub fn unique_phone(phone: &str) -> Key {
    key(format!("UNIQUE#PHONE#{phone}"), "UNIQUE")
}

/// `UNIQUE#{WECHAT|ALIPAY}#{binding}`: one WeChat identity (`union:{unionid}` or
/// `open:{appid}:{openid}`) or Alipay identity (`uid:{user_id}`, `union:{union_id}` or
/// `open:{app_id}:{open_id}`) signs into one account.
pub fn unique_social(social: Social, binding: &str) -> Key {
    key(format!("UNIQUE#{}#{binding}", social.key_part()), "UNIQUE")
}

/// `USER#{id} / {WECHAT|ALIPAY}`: the one identity of that provider an account is bound to.
pub fn social_of(social: Social, user: UserId) -> Key {
    key(format!("USER#{user}"), social.key_part())
}

/// `SESSION#{id} / SESSION`: one refresh-token family.
pub fn session(id: SessionId) -> Key {
    key(format!("SESSION#{id}"), "SESSION")
}

/// A user's sessions: `GSI1PK=USER#{id}`, `GSI1SK=SESSION#{created_at}`.
pub fn gsi1_user_sessions(user: UserId) -> String {
    format!("USER#{user}")
}

/// `RATE#{name}#{subject} / W#{window_start}`: a fixed-window counter with TTL.
/// `LEASE#{job} / LEASE`: the run of a scheduled job that may work now.
pub fn lease(job: &str) -> Key {
    key(format!("LEASE#{job}"), "LEASE")
}

pub fn rate(name: &str, subject: &str, window_start: i64) -> Key {
    key(
        format!("RATE#{name}#{subject}"),
        &format!("W#{window_start}"),
    )
}

/// `USER#{id} / NOTIF#{notification id}`: a user's notifications, newest last.
pub fn notification(user: UserId, id: NotificationId) -> Key {
    key(format!("USER#{user}"), &format!("NOTIF#{id}"))
}

pub const GSI3: &str = "GSI3";
pub const GSI4: &str = "GSI4";

/// The catalogue is one partition: `CATALOG / CATEGORY#{slug}` and
/// `CATALOG / SKILL#{category}#{slug}`.
pub const CATALOG: &str = "CATALOG";

pub fn catalog_category(slug: &str) -> Key {
    key(CATALOG.to_owned(), &format!("CATEGORY#{slug}"))
}

pub fn catalog_skill(category: &str, slug: &str) -> Key {
    key(CATALOG.to_owned(), &format!("SKILL#{category}#{slug}"))
}

/// `SERVICE#{id} / SERVICE`: a service with its packages.
pub fn service(id: ServiceId) -> Key {
    key(format!("SERVICE#{id}"), "SERVICE")
}

pub(crate) fn ms(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Active services of a category, newest first: `GSI1PK` (subcategory) and `GSI4PK`
/// (its top-level category) = `CATEGORY#{slug}`, sort `{published_at}#{id}`.
pub fn category_services(slug: &str) -> String {
    format!("CATEGORY#{slug}")
}

pub fn published_sort(published_at: DateTime<Utc>, id: ServiceId) -> String {
    format!("{}#{id}", ms(published_at))
}

/// A freelancer's services by status: `GSI2PK=FREELANCER#{user}#SERVICES`,
/// `GSI2SK={status}#{created_at}#{id}`.
pub fn freelancer_services(user: UserId) -> String {
    format!("FREELANCER#{user}#SERVICES")
}

pub fn freelancer_service_sort(
    status: ServiceStatus,
    created_at: DateTime<Utc>,
    id: ServiceId,
) -> String {
    format!("{}#{}#{id}", status.as_str(), ms(created_at))
}

/// The operators' list by status: `GSI3PK=SERVICES#{status}`, `GSI3SK={updated_at}#{id}`.
pub fn services_by_status(status: ServiceStatus) -> String {
    format!("SERVICES#{}", status.as_str())
}

pub fn updated_sort(updated_at: DateTime<Utc>, id: ServiceId) -> String {
    format!("{}#{id}", ms(updated_at))
}

/// `FEATURED / {featured_at}#{service}`: a pointer per featured service, newest first.
pub const FEATURED: &str = "FEATURED";

pub fn featured(featured_at: DateTime<Utc>, service: ServiceId) -> Key {
    key(FEATURED.to_owned(), &published_sort(featured_at, service))
}

/// `USER#{user} / SAVED#{service}`; listed through `GSI1PK=USER#{user}#SAVED`,
/// `GSI1SK={saved_at}#{service}`.
pub fn saved(user: UserId, service: ServiceId) -> Key {
    key(format!("USER#{user}"), &format!("SAVED#{service}"))
}

pub fn saved_list(user: UserId) -> String {
    format!("USER#{user}#SAVED")
}

pub fn saved_sort(saved_at: DateTime<Utc>, service: ServiceId) -> String {
    format!("{}#{service}", ms(saved_at))
}

/// How many counter items a service's views are spread over.
pub const VIEW_SHARDS: u32 = 16;

/// `VIEWS#{service}#{n} / VIEWS`: one of the view counter shards. Each shard is its own
/// partition key, so a burst of views is spread over [`VIEW_SHARDS`] partitions.
pub fn view_shard(service: ServiceId, n: u32) -> Key {
    key(format!("VIEWS#{service}#{n}"), "VIEWS")
}

/// `FILE#{id} / FILE`: one private file.
pub fn file(id: FileId) -> Key {
    key(format!("FILE#{id}"), "FILE")
}

/// A user's files (`GSI1PK=USER#{user}#FILES`), for erasure.
pub fn user_files(user: UserId) -> String {
    format!("USER#{user}#FILES")
}

/// An order's files (`GSI2PK=ORDER#{order}#FILES`), oldest first.
pub fn order_files(order: OrderId) -> String {
    format!("ORDER#{order}#FILES")
}

/// `{created_at ms}#{id}`.
pub fn file_sort(at: DateTime<Utc>, id: FileId) -> String {
    format!("{}#{id}", ms(at))
}

/// `ORDER#{id} / ORDER`: an order with its package terms and state.
pub fn order(id: OrderId) -> Key {
    key(format!("ORDER#{id}"), "ORDER")
}

/// `ORDERNO#{number} / ORDERNO`: keeps order numbers unique.
pub fn order_number(number: &str) -> Key {
    key(format!("ORDERNO#{number}"), "ORDERNO")
}

/// A delivery or revision request, in its order's partition: `ORDER#{id} /
/// {DELIVERY|REVISION}#{at}#{step}`.
pub fn order_step(order: OrderId, kind: &str, at: DateTime<Utc>, step: OrderStepId) -> Key {
    key(
        format!("ORDER#{order}"),
        &format!("{kind}#{}#{step}", ms(at)),
    )
}

/// A party's orders, newest first: `GSI1PK=CLIENT#{user}#ORDERS` (as client) and
/// `GSI2PK=FREELANCER#{user}#ORDERS` (as freelancer), sort `{created_at}#{id}`.
pub fn client_orders(user: UserId) -> String {
    format!("CLIENT#{user}#ORDERS")
}

pub fn freelancer_orders(user: UserId) -> String {
    format!("FREELANCER#{user}#ORDERS")
}

pub fn order_sort(at: DateTime<Utc>, id: OrderId) -> String {
    format!("{}#{id}", ms(at))
}

/// The operators' list by status: `GSI3PK=ORDERS#{status}`, `GSI3SK={updated_at}#{id}`.
pub fn orders_by_status(status: OrderStatus) -> String {
    format!("ORDERS#{}", status.as_str())
}

/// Orders waiting on a timer: `GSI4PK=TIMER#{kind}`, `GSI4SK={due}#{id}`; only orders with a
/// pending timer carry it (a sparse index the timers query up to "now").
pub fn order_timer(kind: TimerKind) -> String {
    format!("TIMER#{}", kind.as_str())
}

/// A freelancer's completed orders by completion time (what seller levels count):
/// `GSI4PK=FREELANCER#{user}#COMPLETED`, `GSI4SK={completed_at}#{id}`. An order has a timer or
/// is completed, never both, so the two share `GSI4`.
pub fn freelancer_completed(user: UserId) -> String {
    format!("FREELANCER#{user}#COMPLETED")
}

/// `REVIEW#{id} / REVIEW`: a review with its response.
pub fn review(id: ReviewId) -> Key {
    key(format!("REVIEW#{id}"), "REVIEW")
}

/// `ORDER#{order} / REVIEW`: one review per order (holds the review's id).
pub fn order_review(order: OrderId) -> Key {
    key(format!("ORDER#{order}"), "REVIEW")
}

/// Public reviews of a service (`GSI1`) and of a freelancer (`GSI2`), sort
/// `{created_at}#{review}`; a private or hidden review carries neither.
pub fn service_reviews(service: ServiceId) -> String {
    format!("SERVICE#{service}#REVIEWS")
}

pub fn freelancer_reviews(user: UserId) -> String {
    format!("FREELANCER#{user}#REVIEWS")
}

pub fn review_sort(at: DateTime<Utc>, id: ReviewId) -> String {
    format!("{}#{id}", ms(at))
}

/// A wallet: `WALLET#{account} / WALLET`. Its ledger lines share the partition.
pub fn wallet(account: Account) -> Key {
    key(format!("WALLET#{account}"), "WALLET")
}

/// `WALLET#{account} / LINE#{at}#{movement}#{n}`: one posting, immutable.
pub fn ledger_line(account: Account, at: DateTime<Utc>, movement: &str, n: usize) -> Key {
    key(
        format!("WALLET#{account}"),
        &format!("LINE#{}#{movement}#{n:02}", ms(at)),
    )
}

pub const LINE_PREFIX: &str = "LINE#";

/// `MOVEMENT#{id} / MOVEMENT`: the journal entry and the guard that makes it happen once.
pub fn movement(id: &str) -> Key {
    key(format!("MOVEMENT#{id}"), "MOVEMENT")
}

/// `IDEMPOTENCY#{user}#{scope}#{key} / IDEMPOTENCY`: the first answer to a keyed request.
pub fn idempotency(user: UserId, scope: &str, client_key: &str) -> Key {
    key(
        format!("IDEMPOTENCY#{user}#{scope}#{client_key}"),
        "IDEMPOTENCY",
    )
}

/// `CHARGE#{out_trade_no} / CHARGE`: one attempt to take money in through a gateway.
pub fn charge(out_trade_no: &str) -> Key {
    key(format!("CHARGE#{out_trade_no}"), "CHARGE")
}

/// `REFUND#{refund_no} / REFUND`: one refund to the original payment.
pub fn refund(refund_no: &str) -> Key {
    key(format!("REFUND#{refund_no}"), "REFUND")
}

/// An order's refunds (`GSI2PK=ORDER#{order}#REFUNDS`, `GSI2SK={created_at}#{refund_no}`).
pub fn order_refunds(order: OrderId) -> String {
    format!("ORDER#{order}#REFUNDS")
}

/// Refunds waiting for the gateway (`GSI4PK=TIMER#refund`, `GSI4SK={next attempt}#{no}`),
/// and earnings waiting to clear (`GSI4PK=TIMER#clearance`, `GSI4SK={clears_at}#{order}`):
/// sparse, like the order timers.
pub const REFUND_TIMER: &str = "TIMER#refund";
pub const CLEARANCE_TIMER: &str = "TIMER#clearance";

/// `WALLET#user:{seller} / CLEARANCE#{order}`: earnings of one order waiting to clear, in the
/// seller's wallet partition (the wallet view lists them), deleted when they clear.
pub fn clearance(seller: UserId, order: OrderId) -> Key {
    key(
        wallet(Account::User(seller)).pk,
        &format!("{CLEARANCE_PREFIX}{order}"),
    )
}

pub const CLEARANCE_PREFIX: &str = "CLEARANCE#";

/// `USER#{id} / SUBMERCHANT`: the seller's sub-merchant account at the split channel.
pub fn sub_merchant(user: UserId) -> Key {
    key(format!("USER#{user}"), "SUBMERCHANT")
}

/// Sub-merchant applications WeChat Pay is still deciding (`GSI4PK=TIMER#applyment`,
/// `GSI4SK={next check}#{user}`).
pub const APPLYMENT_TIMER: &str = "TIMER#applyment";

/// `GWTRADE#{gateway}#{trade_no} / GWTRADE`: a gateway transaction is applied once.
pub fn gateway_trade(gateway: Gateway, trade_no: &str) -> Key {
    key(format!("GWTRADE#{gateway}#{trade_no}"), "GWTRADE")
}

/// `WITHDRAWAL#{id} / WITHDRAWAL`.
pub fn withdrawal(id: WithdrawalId) -> Key {
    key(format!("WITHDRAWAL#{id}"), "WITHDRAWAL")
}

/// A user's withdrawals, newest first: `GSI1PK=USER#{id}#WITHDRAWALS`.
pub fn user_withdrawals(user: UserId) -> String {
    format!("USER#{user}#WITHDRAWALS")
}

/// The operators' queue by status, oldest first: `GSI3PK=WITHDRAWALS#{status}`.
pub fn withdrawals_by_status(status: WithdrawalStatus) -> String {
    format!("WITHDRAWALS#{}", status.as_str())
}

pub fn withdrawal_sort(at: DateTime<Utc>, id: WithdrawalId) -> String {
    format!(
        "{}#{id}",
        at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    )
}

/// `USER#{user} / CONV#{conversation}`: one side of a conversation — what that user sees of
/// it (the other party, the last message, their unread count). Listed by last activity
/// through `GSI1PK=USER#{user}#CONVS`, `GSI1SK={last activity}#{conversation}`.
pub fn conversation_member(user: UserId, conversation: ConversationId) -> Key {
    key(format!("USER#{user}"), &format!("CONV#{conversation}"))
}

pub fn user_conversations(user: UserId) -> String {
    format!("USER#{user}#CONVS")
}

pub fn activity_sort(at: DateTime<Utc>, conversation: ConversationId) -> String {
    format!("{}#{conversation}", ms(at))
}

/// `CONV#{conversation} / MSG#{message}`: one message; the ids sort by time.
pub fn message(conversation: ConversationId, id: MessageId) -> Key {
    key(format!("CONV#{conversation}"), &format!("MSG#{id}"))
}

pub fn conversation_messages(conversation: ConversationId) -> String {
    format!("CONV#{conversation}")
}

/// `WSCONN#{connection} / WSCONN`: an open WebSocket (TTL `expires_at`); a user's are listed
/// through `GSI1PK=USER#{user}#WS`.
pub fn ws_connection(connection: &str) -> Key {
    key(format!("WSCONN#{connection}"), "WSCONN")
}

pub fn user_connections(user: UserId) -> String {
    format!("USER#{user}#WS")
}

/// A user's unread notifications (a sparse index: reading removes the keys):
/// `GSI1PK=USER#{user}#UNREAD`, `GSI1SK={notification id}`.
pub fn unread_notifications(user: UserId) -> String {
    format!("USER#{user}#UNREAD")
}

/// `USER#{user} / OFFENCES`: how many of the user's messages had contact details masked
/// before an order was paid.
pub fn offences(user: UserId) -> Key {
    key(format!("USER#{user}"), "OFFENCES")
}

/// `REPORT#{id} / REPORT`: a report to the moderators; open ones are listed through
/// `GSI1PK=REPORTS#{status}`, `GSI1SK={created_at}#{id}`.
pub fn report(id: ReportId) -> Key {
    key(format!("REPORT#{id}"), "REPORT")
}

pub fn reports_by_status(status: &str) -> String {
    format!("REPORTS#{status}")
}

/// The operators' queue by status and type: `GSI2PK=REPORTS#{status}#{type}`, same sort.
pub fn reports_by_status_type(status: &str, target_type: &str) -> String {
    format!("REPORTS#{status}#{target_type}")
}

/// `REPORTGUARD#{reporter}#{type}#{target} / OPEN`: one open report per reporter and target;
/// deleted when the report is decided.
pub fn report_guard(reporter: &str, target_type: &str, target_id: &str) -> Key {
    key(
        format!("REPORTGUARD#{reporter}#{target_type}#{target_id}"),
        "OPEN",
    )
}

/// The month partition of the audit log.
pub fn audit_month(month: &str) -> String {
    format!("AUDIT#{month}")
}

/// `IPREG#{ip} / {registered_at}#{user}`: an account registered from `ip` (TTL a day).
pub fn ip_registration(ip: &str, at: DateTime<Utc>, user: UserId) -> Key {
    key(format!("IPREG#{ip}"), &format!("{}#{user}", ms(at)))
}

/// `DUPMSG#{sender}#{fingerprint} / W#{hour}`: the people one text went to unsolicited in an
/// hour (TTL).
pub fn duplicate_messages(sender: UserId, fingerprint: &str, window_start: i64) -> Key {
    key(
        format!("DUPMSG#{sender}#{fingerprint}"),
        &format!("W#{window_start}"),
    )
}

/// `SANCTION#{user}#{rule}#{evidence} / SANCTION`: an automatic sanction is applied once.
pub fn sanction_guard(user: UserId, rule: &str, evidence: &str) -> Key {
    key(format!("SANCTION#{user}#{rule}#{evidence}"), "SANCTION")
}

/// `STATS / CURRENT`: the maintained gauges (users by type, orders by status, open queues).
pub fn stats_current() -> Key {
    key("STATS".to_owned(), "CURRENT")
}

/// `STATS / DAY#{yyyy-mm-dd}`: what happened on a day (UTC+8): new users, GMV, revenue.
pub fn stats_day(day: &str) -> Key {
    key("STATS".to_owned(), &format!("DAY#{day}"))
}

/// `COUNTED#{change id} / COUNTED`: a change already counted (TTL a week).
pub fn counted(change: &str) -> Key {
    key(format!("COUNTED#{change}"), "COUNTED")
}

/// `USER#{user} / MONTHLY#{yyyy-mm}`: the user's activity report of a month.
/// `REPORTS#{month} / PAGE#{cursor}`: a page of the month's reports whose successor was sent.
pub fn report_page(month: &str, cursor: &str) -> Key {
    key(format!("REPORTS#{month}"), &format!("PAGE#{cursor}"))
}

pub fn monthly_report(user: UserId, month: &str) -> Key {
    key(format!("USER#{user}"), &format!("MONTHLY#{month}"))
}

/// A user's data export: `USER#{u} / EXPORT#{id}` (ids sort by time, so the newest is last).
pub fn data_export(user: UserId, id: crate::domain::ExportId) -> Key {
    key(format!("USER#{user}"), &format!("EXPORT#{id}"))
}

/// Movements by the day they were written (UTC): `GSI2PK=MOVEMENTS#{yyyy-mm-dd}`,
/// `GSI2SK={at}#{id}`, so the reconciler reads only what moved since its last run.
pub fn movements_of_day(day: chrono::NaiveDate) -> String {
    format!("MOVEMENTS#{}", day.format("%Y-%m-%d"))
}

/// The incremental reconciliation's checkpoint: `RECONCILE#LEDGER / CHECKPOINT`.
pub fn reconcile_checkpoint() -> Key {
    key("RECONCILE#LEDGER".to_owned(), "CHECKPOINT")
}

/// Shards of the ranking's dirty set (a busy catalogue marks services often).
pub const RANKING_DIRTY_SHARDS: u32 = 8;

/// One entry of the ranking's dirty set: `RANKING#DIRTY#{shard}` / `SERVICE#{id}` or
/// `USER#{id}`.
pub fn ranking_dirty(target: crate::domain::ranking::RankTarget) -> Key {
    use crate::domain::ranking::RankTarget;
    let (sk, random) = match target {
        RankTarget::Service(id) => (format!("SERVICE#{id}"), id.random()),
        RankTarget::Freelancer(id) => (format!("USER#{id}"), id.random()),
    };
    key(
        ranking_dirty_shard((random % u128::from(RANKING_DIRTY_SHARDS)) as u32),
        &sk,
    )
}

pub fn ranking_dirty_shard(shard: u32) -> String {
    format!("RANKING#DIRTY#{shard}")
}

/// When the ranking last ranked everything: `RANKING#STATE / FULL`.
pub fn ranking_state() -> Key {
    key("RANKING#STATE".to_owned(), "FULL")
}

/// `CONFIG#FEE_RULES / CONFIG`: the operators' commission rules (absent: the default 20 %).
pub fn fee_rules() -> Key {
    key("CONFIG#FEE_RULES".to_owned(), "CONFIG")
}

/// `TAXREPORT#{yyyyQn} / TAXREPORT`: one quarter's income report, listed on `GSI1PK = TAXREPORTS`.
pub fn tax_report(quarter: &str) -> Key {
    key(format!("TAXREPORT#{quarter}"), "TAXREPORT")
}

pub const TAX_REPORTS: &str = "TAXREPORTS";

/// `BRIEF#{brief} / BRIEF`: a buyer's brief.
pub fn brief(id: crate::domain::BriefId) -> Key {
    key(format!("BRIEF#{id}"), "BRIEF")
}

/// `USER#{client} / BRIEFS`: how many briefs the buyer has open.
pub fn open_briefs(client: UserId) -> Key {
    key(format!("USER#{client}"), "BRIEFS")
}

/// `BRIEF#{brief} / PROPOSAL#{proposal}`: one proposal on a brief.
pub fn proposal(brief: crate::domain::BriefId, id: crate::domain::ProposalId) -> Key {
    key(format!("BRIEF#{brief}"), &format!("PROPOSAL#{id}"))
}

/// `BRIEF#{brief} / BIDDER#{seller}`: one proposal per seller per brief; holds its id.
pub fn bidder(brief: crate::domain::BriefId, seller: UserId) -> Key {
    key(format!("BRIEF#{brief}"), &format!("BIDDER#{seller}"))
}

/// Open public briefs, newest first: `GSI1PK=BRIEFS#OPEN`.
pub const GSI1_OPEN_BRIEFS: &str = "BRIEFS#OPEN";

/// A seller's proposals across briefs: `GSI2PK=SELLER#{seller}#PROPOSALS`, sort
/// `{created_at}#{proposal}`.
pub fn seller_proposals(seller: UserId) -> String {
    format!("SELLER#{seller}#PROPOSALS")
}

/// A buyer's briefs: `GSI2PK=CLIENT#{client}#BRIEFS`.
pub fn client_briefs(client: UserId) -> String {
    format!("CLIENT#{client}#BRIEFS")
}

/// Open public briefs of a (sub)category: `GSI3PK` (subcategory) or `GSI4PK` (top level).
pub fn briefs_of_category(slug: &str) -> String {
    format!("BRIEFS#CATEGORY#{slug}")
}

/// `{created_at}#{id}`: newest last, for any time-ordered list.
pub fn time_sort(at: DateTime<Utc>, id: impl std::fmt::Display) -> String {
    format!("{}#{id}", ms(at))
}

/// `OFFER#{offer} / OFFER`: a seller's custom offer.
pub fn offer(id: crate::domain::OfferId) -> Key {
    key(format!("OFFER#{id}"), "OFFER")
}

/// Sealed reviews, both sides' (`REVIEW#{id}` and `ORDER#{order}/CLIENTREVIEW` items), by the
/// end of their window: `GSI4PK=TIMER#reveal`, `GSI4SK={sealed_until}#{id}`. An item leaves the
/// index when it is shown.
pub const REVEAL_TIMER: &str = "TIMER#reveal";

/// Open custom offers by expiry: `GSI4PK=TIMER#offer`, `GSI4SK={expires_at}#{offer}`; an offer
/// leaves the index when it is accepted, declined or marked expired.
pub const OFFER_TIMER: &str = "TIMER#offer";

/// `ORDER#{order} / CLIENTREVIEW`: the seller's review of the buyer, one per order.
pub fn client_review(order: OrderId) -> Key {
    key(format!("ORDER#{order}"), "CLIENTREVIEW")
}
