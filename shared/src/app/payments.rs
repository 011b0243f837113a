//! Money in through the gateways (top-ups, orders paid by Alipay or WeChat Pay) and money out
//! (withdrawals).
//!
//! A charge is written *before* the gateway hears of it, so every notification that can
//! arrive finds its charge. A verified notification settles the charge and moves the money in
//! one transaction, guarded three ways: the charge must still be pending, the gateway's
//! transaction id must be new, and the movement id must be new. A notification delivered many
//! times, or many at once, moves money once.

use crate::domain::split::SplitTarget;
use chrono::{DateTime, Utc};

use super::orders::{IdempotencyKey, OrderError, Outcome};
use crate::crypto::PiiVault;
use crate::domain::ledger::{Account, Movement};
use crate::domain::order::{PAY_WITHIN, Party};
use crate::domain::payment::{
    Channel, Charge, ChargeStatus, Gateway, GatewayNotice, PayoutMethod, Purpose, TOPUP_MAX_FEN,
    TOPUP_MIN_FEN, TOPUP_PAY_WITHIN, Withdrawal, WithdrawalRuleError, WithdrawalStatus,
};
use crate::domain::refund::Refund;
use crate::domain::{Money, OrderId, User, UserId, UserType, WithdrawalId};
use crate::payments::{
    ChargeRequest, GatewayError, Gateways, PayParams, TransferOutcome, TransferRequest,
};
use crate::store::{
    AuditRecord, IdempotencyRecord, ListError, Page, PaymentRefusal, Replay, Store, StoreError,
    TransitionRefusal,
};

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("{0} is not enabled")]
    MethodUnavailable(Gateway),
    #[error("a top-up must be between 1.00 and 50,000.00")]
    AmountOutOfRange,
    #[error("operators have no wallet")]
    AdminHasNoWallet,
    #[error("the gateway did not answer usably: {0}")]
    Gateway(#[from] GatewayError),
    #[error("the idempotency key was used for another request")]
    KeyReused,
    #[error(transparent)]
    Order(#[from] OrderError),
    #[error("no such withdrawal")]
    WithdrawalNotFound,
    #[error("real-name verification is required to withdraw")]
    VerificationRequired,
    #[error("not an account this method can pay")]
    InvalidAccount,
    #[error(transparent)]
    Withdrawal(#[from] WithdrawalRuleError),
    #[error("not enough money in the wallet")]
    InsufficientFunds,
    #[error("the record kept changing")]
    Busy,
    #[error("sealed data could not be read: {0}")]
    Sealed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    List(#[from] ListError),
}

/// How the payer wants to pay.
#[derive(Debug, Clone)]
pub struct PayWith {
    pub gateway: Gateway,
    pub channel: Channel,
    /// Required for WeChat JSAPI.
    pub openid: Option<String>,
}

/// A charge and what the client needs to pay it.
#[derive(Debug, Clone)]
pub struct Started {
    pub charge: Charge,
    pub params: PayParams,
}

fn random_bits() -> u128 {
    ulid::Ulid::new().random()
}

/// Asks the gateway for the payment parameters of `charge`.
async fn params_for(
    gateways: &Gateways,
    charge: &Charge,
    now: DateTime<Utc>,
) -> Result<PayParams, PaymentError> {
    let req = ChargeRequest {
        out_trade_no: charge.out_trade_no.clone(),
        amount: charge.amount,
        subject: charge.subject.clone(),
        expires_at: charge.expires_at,
    };
    match charge.gateway {
        Gateway::Alipay => {
            let a = gateways
                .alipay
                .as_ref()
                .ok_or(PaymentError::MethodUnavailable(Gateway::Alipay))?;
            a.pay(&req, charge.channel, now)
                .map_err(|e| GatewayError::Decode(e.to_string()).into())
        }
        gateway if charge.sub_mchid.is_some() => {
            let provider = gateways
                .split_channel
                .as_ref()
                .filter(|p| p.gateway() == gateway)
                .ok_or(PaymentError::MethodUnavailable(gateway))?;
            let sub = charge.sub_mchid.as_deref().unwrap_or_default();
            let openid = charge
                .openid
                .as_deref()
                .filter(|_| charge.channel == Channel::Jsapi);
            Ok(provider.charge(&req, sub, openid).await?)
        }
        Gateway::Wechat => {
            let w = gateways
                .wechat
                .as_ref()
                .ok_or(PaymentError::MethodUnavailable(Gateway::Wechat))?;
            match (charge.channel, charge.openid.as_deref()) {
                (Channel::Jsapi, Some(openid)) => Ok(w.jsapi(&req, openid).await?),
                _ => Ok(w.native(&req).await?),
            }
        }
    }
}

/// What a retried request gets: the same charge and the same parameters.
async fn resume(
    store: &Store,
    gateways: &Gateways,
    out_trade_no: &str,
    now: DateTime<Utc>,
) -> Result<Started, PaymentError> {
    let rec = store
        .get_charge(out_trade_no, true)
        .await?
        .ok_or_else(|| StoreError::Decode(format!("charge {out_trade_no} vanished")))?;
    let params = match rec
        .pay_params
        .as_deref()
        .map(serde_json::from_str::<PayParams>)
    {
        Some(Ok(p)) => p,
        _ => {
            let p = params_for(gateways, &rec.charge, now).await?;
            save_params(store, &rec.charge, &p).await;
            p
        }
    };
    Ok(Started {
        charge: rec.charge,
        params,
    })
}

async fn save_params(store: &Store, charge: &Charge, params: &PayParams) {
    let saved = match serde_json::to_string(params) {
        Ok(json) => store.save_pay_params(&charge.out_trade_no, &json).await,
        Err(e) => Err(StoreError::Decode(e.to_string())),
    };
    if let Err(e) = saved {
        // A retry asks the gateway again for the same trade: nothing is lost.
        tracing::warn!(out_trade_no = %charge.out_trade_no, error = %e, "pay parameters not kept");
    }
}

/// The charge a keyed request made before, if any.
async fn earlier(
    store: &Store,
    user: UserId,
    scope: &str,
    key: Option<&IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Option<String>, PaymentError> {
    let Some(k) = key else { return Ok(None) };
    match store.idempotency(user, scope, &k.key, now).await? {
        None => Ok(None),
        Some(r) => match r.replay(&k.request_hash) {
            Replay::Same { response, .. } => Ok(Some(response)),
            Replay::Mismatch => Err(PaymentError::KeyReused),
        },
    }
}

#[allow(clippy::too_many_arguments)]
async fn start(
    store: &Store,
    gateways: &Gateways,
    user: &User,
    purpose: Purpose,
    amount: Money,
    subject: String,
    expires_at: DateTime<Utc>,
    (pay, sub_mchid): (&PayWith, Option<String>),
    scope: &str,
    key: Option<&IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Started, PaymentError> {
    if !gateways.enabled(pay.gateway) && sub_mchid.is_none() {
        return Err(PaymentError::MethodUnavailable(pay.gateway));
    }
    let charge = Charge {
        out_trade_no: Charge::new_trade_no(now, random_bits()),
        user_id: user.id,
        purpose,
        gateway: pay.gateway,
        channel: pay.channel,
        openid: pay.openid.clone(),
        amount,
        subject,
        status: ChargeStatus::Pending,
        trade_no: None,
        sub_mchid,
        created_at: now,
        expires_at,
        settled_at: None,
    };
    let op = key
        .map(|k| {
            store.idempotency_op(&IdempotencyRecord::new(
                user.id,
                scope,
                &k.key,
                k.request_hash.clone(),
                201,
                charge.out_trade_no.clone(),
                now,
            ))
        })
        .transpose()?;
    match store.create_charge(&charge, op).await? {
        Ok(()) => {}
        // A twin request with the same key won the race: answer with its charge.
        Err(_) => {
            return match earlier(store, user.id, scope, key, now).await? {
                Some(out_trade_no) => resume(store, gateways, &out_trade_no, now).await,
                None => Err(PaymentError::Busy),
            };
        }
    }
    let params = params_for(gateways, &charge, now).await?;
    save_params(store, &charge, &params).await;
    Ok(Started { charge, params })
}

/// `topup-create`: a charge that credits the wallet once paid.
pub async fn top_up(
    store: &Store,
    gateways: &Gateways,
    user: &User,
    amount: Money,
    pay: &PayWith,
    key: Option<&IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Started, PaymentError> {
    const SCOPE: &str = "topup-create";
    if let Some(out_trade_no) = earlier(store, user.id, SCOPE, key, now).await? {
        return resume(store, gateways, &out_trade_no, now).await;
    }
    if user.user_type == UserType::Admin {
        return Err(PaymentError::AdminHasNoWallet);
    }
    if !(TOPUP_MIN_FEN..=TOPUP_MAX_FEN).contains(&amount.fen()) {
        return Err(PaymentError::AmountOutOfRange);
    }
    start(
        store,
        gateways,
        user,
        Purpose::Topup,
        amount,
        "Gigbao 钱包充值".to_owned(),
        now + TOPUP_PAY_WITHIN,
        (pay, None),
        SCOPE,
        key,
        now,
    )
    .await
}

/// `order-pay` with `alipay` or `wechat`: a charge for the order's total, payable until the
/// order's own payment deadline; the notification pays the order into escrow.
pub async fn pay_order(
    store: &Store,
    gateways: &Gateways,
    user: &User,
    order_id: OrderId,
    pay: &PayWith,
    key: Option<&IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Started, PaymentError> {
    const SCOPE: &str = "order-pay";
    if let Some(out_trade_no) = earlier(store, user.id, SCOPE, key, now).await? {
        return resume(store, gateways, &out_trade_no, now).await;
    }
    let order = store
        .get_order(order_id, true)
        .await?
        .ok_or(OrderError::NotFound)?;
    let party = order.party_of(user.id).ok_or(OrderError::NotFound)?;
    // The same rules as a wallet payment, checked now; the notification checks them again.
    order
        .pay(party, pay.gateway.as_str(), now)
        .map_err(OrderError::from)?;
    let sub_mchid = split_account(store, gateways, &order, pay).await?;
    start(
        store,
        gateways,
        user,
        Purpose::Order(order.id),
        order.total_amount,
        format!("Gigbao 订单 {}", order.order_number),
        order.created_at + PAY_WITHIN,
        (pay, sub_mchid),
        SCOPE,
        key,
        now,
    )
    .await
}

/// The seller's sub-merchant account a WeChat payment for `order` goes to: when this
/// deployment has the split channel and the seller an active account there. Otherwise the
/// order is paid to the platform's own merchant (wallet mode).
async fn split_account(
    store: &Store,
    gateways: &Gateways,
    order: &crate::domain::order::Order,
    pay: &PayWith,
) -> Result<Option<String>, PaymentError> {
    if gateways
        .split_channel
        .as_ref()
        .is_none_or(|p| p.gateway() != pay.gateway)
    {
        return Ok(None);
    }
    Ok(store
        .get_sub_merchant(order.freelancer_id)
        .await?
        .and_then(|m| m.active().map(str::to_owned)))
}

/// What a verified notification did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The wallet was credited, or the order paid into escrow.
    Applied,
    /// The order could no longer take the money: it goes back to the payer under this refund
    /// number (push it to the gateway).
    Refunding(String),
    /// Done before (a repeated notification).
    AlreadyApplied,
}

#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error("no such trade of ours")]
    UnknownTrade,
    #[error("the amount paid differs from the amount charged")]
    AmountMismatch,
    #[error("the charge kept changing")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies a verified gateway notification.
pub async fn settle(
    store: &Store,
    notice: &GatewayNotice,
    now: DateTime<Utc>,
) -> Result<Settled, SettleError> {
    let mut tries = super::Tries::new();
    while tries.next().await {
        let rec = store
            .get_charge(&notice.out_trade_no, true)
            .await?
            .ok_or(SettleError::UnknownTrade)?;
        let charge = rec.charge;
        if charge.gateway != notice.gateway || charge.sub_mchid != notice.sub_mchid {
            return Err(SettleError::UnknownTrade);
        }
        if charge.amount != notice.amount {
            tracing::warn!(
                alarm = "payment_amount_mismatch",
                out_trade_no = %charge.out_trade_no,
                charged = %charge.amount,
                notified = %notice.amount,
                "refused"
            );
            return Err(SettleError::AmountMismatch);
        }
        if charge.status != ChargeStatus::Pending {
            if charge.trade_no.as_deref() != Some(notice.trade_no.as_str()) {
                tracing::warn!(
                    alarm = "payment_second_trade",
                    out_trade_no = %charge.out_trade_no,
                    "a settled charge was notified with another gateway transaction"
                );
            }
            return Ok(Settled::AlreadyApplied);
        }
        let settled = |status| Charge {
            status,
            trade_no: Some(notice.trade_no.clone()),
            settled_at: Some(now),
            ..charge.clone()
        };
        let deposit = || {
            Movement::deposit(charge.user_id, charge.amount, &charge.out_trade_no)
                .map_err(|e| StoreError::Decode(e.to_string()))
        };
        match charge.purpose {
            Purpose::Topup => {
                match store
                    .settle_charge(&settled(ChargeStatus::Paid), &deposit()?, now)
                    .await?
                {
                    Ok(()) => return Ok(Settled::Applied),
                    Err(_) => continue,
                }
            }
            Purpose::Order(order_id) => {
                let order = store.get_order(order_id, true).await?;
                let transition = order.as_ref().and_then(|o| {
                    (o.client_id == charge.user_id)
                        .then(|| o.pay(Party::Client, charge.gateway.as_str(), now).ok())
                        .flatten()
                        .map(|t| (o.version, t))
                });
                let Some((version, mut t)) = transition else {
                    // Paid another way, cancelled or expired meanwhile: the payment goes back
                    // where it came from.
                    let refund = Refund::of_charge(&charge, now);
                    match store
                        .settle_charge_refunded(&settled(ChargeStatus::Refunded), &refund, now)
                        .await?
                    {
                        Ok(()) => {
                            tracing::info!(out_trade_no = %charge.out_trade_no, %order_id, refund_no = %refund.refund_no, "order could not take the payment; refunding it");
                            return Ok(Settled::Refunding(refund.refund_no));
                        }
                        Err(_) => continue,
                    }
                };
                t.order.payment_reference = Some(charge.out_trade_no.clone());
                t.order.split = charge.sub_mchid.clone().map(|sub_mchid| SplitTarget {
                    sub_mchid,
                    transaction_id: notice.trade_no.clone(),
                });
                t.movement = Some(
                    Movement::gateway_escrow(
                        order_id,
                        charge.user_id,
                        charge.amount,
                        &charge.out_trade_no,
                    )
                    .map_err(|e| StoreError::Decode(e.to_string()))?,
                );
                let extras = store.settle_charge_ops(&settled(ChargeStatus::Paid))?;
                match store.write_transition(&t, version, extras, now).await? {
                    Ok(()) => return Ok(Settled::Applied),
                    Err(
                        TransitionRefusal::Stale
                        | TransitionRefusal::KeyUsed
                        | TransitionRefusal::AlreadyApplied,
                    ) => continue,
                    Err(other) => {
                        return Err(StoreError::Decode(format!(
                            "order payment refused: {other:?}"
                        ))
                        .into());
                    }
                }
            }
        }
    }
    Err(SettleError::Busy)
}

// ---------------------------------------------------------------------------------------------
// Withdrawals

/// The personal-information context withdrawal accounts are sealed under.
const ACCOUNT_CONTEXT: &str = "withdrawal-account";

/// `withdrawal-create`: freezes `amount` and queues the withdrawal for review.
#[allow(clippy::too_many_arguments)]
pub async fn request_withdrawal(
    store: &Store,
    vault: &PiiVault,
    user: &User,
    amount: Money,
    method: PayoutMethod,
    account: &str,
    key: Option<&IdempotencyKey>,
    render: &(dyn Fn(&Withdrawal) -> String + Send + Sync),
    now: DateTime<Utc>,
) -> Result<Outcome<Withdrawal>, PaymentError> {
    const SCOPE: &str = "withdrawal-create";
    let replay = || async {
        match earlier(store, user.id, SCOPE, key, now).await? {
            Some(response) => Ok::<_, PaymentError>(Some(Outcome::Replayed {
                status: 201,
                response,
            })),
            None => Ok(None),
        }
    };
    if let Some(done) = replay().await? {
        return Ok(done);
    }
    if !user.is_verified || user.user_type == UserType::Admin {
        return Err(PaymentError::VerificationRequired);
    }
    let account = method
        .normalize_account(account)
        .ok_or(PaymentError::InvalidAccount)?;
    let account = account.as_str();
    let sealed = vault
        .seal(account, ACCOUNT_CONTEXT)
        .map_err(|e| PaymentError::Sealed(e.to_string()))?;
    let w = Withdrawal::request(
        user.id,
        user.username.as_str(),
        amount,
        method,
        account,
        sealed,
        now,
    )?;
    let hold = Movement::withdrawal_hold(user.id, amount, w.id)
        .map_err(|e| StoreError::Decode(e.to_string()))?;
    let extras = key
        .map(|k| {
            store.idempotency_op(&IdempotencyRecord::new(
                user.id,
                SCOPE,
                &k.key,
                k.request_hash.clone(),
                201,
                render(&w),
                now,
            ))
        })
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    match store
        .write_withdrawal(&w, None, extras, Some(&hold), now)
        .await?
    {
        Ok(()) => Ok(Outcome::Done(w)),
        Err(PaymentRefusal::Insufficient(Account::User(_))) => Err(PaymentError::InsufficientFunds),
        Err(PaymentRefusal::KeyUsed) => replay().await?.ok_or(PaymentError::Busy),
        Err(other) => Err(StoreError::Decode(format!("withdrawal refused: {other:?}")).into()),
    }
}

/// `withdrawal-list`: the caller's withdrawals, newest first.
pub async fn withdrawals_of(
    store: &Store,
    user: UserId,
    limit: i32,
    cursor: Option<&str>,
) -> Result<Page<Withdrawal>, PaymentError> {
    Ok(store.user_withdrawals(user, limit, cursor).await?)
}

/// `admin-withdrawal-list`: one status, oldest first.
pub async fn withdrawal_queue(
    store: &Store,
    status: WithdrawalStatus,
    limit: i32,
    cursor: Option<&str>,
) -> Result<Page<Withdrawal>, PaymentError> {
    Ok(store.withdrawals_by_status(status, limit, cursor).await?)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Review {
    Approve,
    Reject { reason: String },
}

/// What a review did, and what the gateway said when it did not settle it.
#[derive(Debug, Clone)]
pub struct Reviewed {
    pub withdrawal: Withdrawal,
    pub gateway_note: Option<String>,
}

async fn write(
    store: &Store,
    w: &Withdrawal,
    read_version: u64,
    audit: Option<AuditRecord>,
    movement: Option<Movement>,
    now: DateTime<Utc>,
) -> Result<(), PaymentError> {
    let extras = audit
        .map(|a| a.put(store.table()))
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    match store
        .write_withdrawal(w, Some(read_version), extras, movement.as_ref(), now)
        .await?
    {
        Ok(()) => Ok(()),
        Err(PaymentRefusal::Stale) => Err(PaymentError::Busy),
        Err(other) => Err(StoreError::Decode(format!("withdrawal refused: {other:?}")).into()),
    }
}

fn movement(
    m: Result<Movement, crate::domain::ledger::MovementError>,
) -> Result<Movement, PaymentError> {
    m.map_err(|e| StoreError::Decode(e.to_string()).into())
}

/// The payee's legal name, from their approved 实名认证.
async fn payee_name(store: &Store, vault: &PiiVault, user: UserId) -> Result<String, PaymentError> {
    let sealed = |why: &str| PaymentError::Sealed(why.to_owned());
    let u = store
        .get_user(user)
        .await?
        .ok_or_else(|| sealed("payee gone"))?;
    let vid = u
        .verification
        .as_ref()
        .and_then(|v| v.id.parse().ok())
        .ok_or_else(|| sealed("payee has no verification"))?;
    let record = store
        .get_verification(vid)
        .await?
        .ok_or_else(|| sealed("verification gone"))?;
    let json = vault
        .open(&record.sealed_identity, &record.pk)
        .map_err(|e| PaymentError::Sealed(e.to_string()))?;
    crate::domain::identity::SealedIdentity::from_json(&json)
        .map(|i| i.real_name)
        .ok_or_else(|| sealed("no name in the verification"))
}

/// Asks the gateway to pay `w` (already `processing`).
async fn payout(
    store: &Store,
    gateways: &Gateways,
    vault: &PiiVault,
    w: &Withdrawal,
    retry: bool,
    now: DateTime<Utc>,
) -> Result<TransferOutcome, PaymentError> {
    let gateway = match w.method {
        // Paid by an operator through the bank; approving records that it was.
        PayoutMethod::Bank => {
            return Ok(TransferOutcome::Paid {
                reference: format!("bank:{}", w.id),
            });
        }
        PayoutMethod::Alipay => Gateway::Alipay,
        PayoutMethod::Wechat => Gateway::Wechat,
    };
    let account = vault
        .open(&w.account_sealed, ACCOUNT_CONTEXT)
        .map_err(|e| PaymentError::Sealed(e.to_string()))?;
    let t = TransferRequest {
        reference: w.id.to_string(),
        amount: w.net,
        account,
        payee_name: payee_name(store, vault, w.user_id).await?,
        title: "Gigbao 提现".to_owned(),
    };
    match gateway {
        Gateway::Alipay => {
            let a = gateways
                .alipay
                .as_ref()
                .ok_or(PaymentError::MethodUnavailable(gateway))?;
            Ok(a.transfer(&t, now).await?)
        }
        Gateway::Wechat => {
            let wx = gateways
                .wechat
                .as_ref()
                .ok_or(PaymentError::MethodUnavailable(gateway))?;
            if retry && let Some(outcome) = wx.transfer_state(&t.reference).await? {
                return Ok(outcome);
            }
            Ok(wx.transfer(&t).await?)
        }
    }
}

/// `admin-withdrawal-review`: reject (the money goes back), or approve (the gateway pays
/// `net`; once it says paid, the payout is posted; if it refuses, the money goes back).
pub async fn review_withdrawal(
    store: &Store,
    gateways: &Gateways,
    vault: &PiiVault,
    admin: &User,
    id: WithdrawalId,
    review: Review,
    now: DateTime<Utc>,
) -> Result<Reviewed, PaymentError> {
    let w = store
        .get_withdrawal(id, true)
        .await?
        .ok_or(PaymentError::WithdrawalNotFound)?;
    let audit = |action: &str, reason: Option<&str>| {
        AuditRecord::new(
            admin.id,
            action,
            "withdrawal",
            &id.to_string(),
            reason,
            serde_json::json!({
                "amount": w.amount.to_string(),
                "fee": w.fee.to_string(),
                "method": w.method.as_str(),
                "user_id": w.user_id.to_string(),
            }),
            now,
        )
    };
    match review {
        Review::Reject { reason } => {
            let next = w.reject(admin.id, reason.clone(), now)?;
            let back = movement(Movement::withdrawal_return(w.user_id, w.amount, w.id))?;
            write(
                store,
                &next,
                w.version,
                Some(audit("withdrawal.reject", Some(&reason))),
                Some(back),
                now,
            )
            .await?;
            Ok(Reviewed {
                withdrawal: next,
                gateway_note: None,
            })
        }
        Review::Approve => {
            let retry = w.status == WithdrawalStatus::Processing;
            let gateway = match w.method {
                PayoutMethod::Alipay => Some(Gateway::Alipay),
                PayoutMethod::Wechat => Some(Gateway::Wechat),
                PayoutMethod::Bank => None,
            };
            if let Some(g) = gateway.filter(|g| !gateways.enabled(*g)) {
                return Err(PaymentError::MethodUnavailable(g));
            }
            let processing = w.approve(admin.id, now)?;
            write(
                store,
                &processing,
                w.version,
                Some(audit("withdrawal.approve", None)),
                None,
                now,
            )
            .await?;
            let (settled, note) =
                match payout(store, gateways, vault, &processing, retry, now).await {
                    Ok(TransferOutcome::Paid { reference }) => {
                        let paid = processing.paid(reference, now)?;
                        let m = movement(Movement::withdrawal_payout(
                            w.user_id, w.amount, w.fee, w.id,
                        ))?;
                        (Some((paid, m)), None)
                    }
                    Ok(TransferOutcome::Refused { reason }) => {
                        let failed = processing.failed(reason, now)?;
                        let m = movement(Movement::withdrawal_return(w.user_id, w.amount, w.id))?;
                        (Some((failed, m)), None)
                    }
                    Ok(TransferOutcome::InProgress { .. }) => (
                        None,
                        Some("the gateway is still processing the transfer".to_owned()),
                    ),
                    Err(PaymentError::Gateway(e)) => {
                        tracing::warn!(withdrawal_id = %id, error = %e, "payout not confirmed");
                        (None, Some(e.to_string()))
                    }
                    Err(e) => return Err(e),
                };
            match settled {
                Some((next, m)) => {
                    write(store, &next, processing.version, None, Some(m), now).await?;
                    Ok(Reviewed {
                        withdrawal: next,
                        gateway_note: None,
                    })
                }
                None => Ok(Reviewed {
                    withdrawal: processing,
                    gateway_note: note,
                }),
            }
        }
    }
}
