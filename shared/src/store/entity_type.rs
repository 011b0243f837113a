//! The kinds of item the table holds, named once.

use serde::{Deserialize, Serialize};

/// What kind of thing an item is (its `entity_type` attribute): every kind the store writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityType {
    User,
    Session,
    Unique,
    Token,
    SmsCode,
    Service,
    Category,
    Skill,
    Featured,
    Saved,
    ViewShard,
    Order,
    OrderNumber,
    OrderDelivery,
    OrderRevision,
    Review,
    ReviewGuard,
    ConversationMember,
    Message,
    WsConnection,
    Notification,
    Verification,
    Withdrawal,
    Wallet,
    Charge,
    GatewayTrade,
    Movement,
    LedgerLine,
    ReconcileCheckpoint,
    Report,
    ReportGuard,
    SanctionGuard,
    IpRegistration,
    Offences,
    DuplicateMessages,
    Audit,
    DataExport,
    MonthlyReport,
    ReportPage,
    Counted,
    Idempotency,
    RankingDirty,
    RankingState,
    Stats,
    RateLimit,
    Lease,
    File,
    Refund,
    Clearance,
    FeeRules,
    TaxReport,
    SubMerchant,
    Brief,
    BriefCount,
    Proposal,
    Bidder,
    Offer,
    ClientReview,
    /// Anything else: never followed.
    #[serde(other)]
    Other,
}

impl EntityType {
    /// The name as stored (serde's, so it is spelled once).
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}
