//! Briefs (需求) and proposals (投标): a buyer posts a need with a budget, sellers bid, the
//! buyer accepts one proposal and it becomes an order at its price and terms — the same
//! escrow and lifecycle as any order, `origin: proposal`.

use chrono::{DateTime, Utc};
use tracing::instrument;

use super::catalog::catalog;
use crate::domain::brief::{
    Award, Brief, BriefFile, BriefId, BriefInput, BriefStatus, Errors, Proposal, ProposalId,
    ProposalStatus, ProposalTerms,
};
use crate::domain::clearance::ClearancePolicy;
use crate::domain::moderation::{self, Finding, RulesError};
use crate::domain::order::Order;
use crate::domain::{Money, User};
use crate::files::{Files, UploadTicket};
use crate::store::{
    BriefCreate, BriefListing, ListError, Page, ProposalCreate, RateLimit, Store, StoreError,
    TransitionRefusal,
};

#[derive(Debug, thiserror::Error)]
pub enum BriefError {
    #[error("operators do not post briefs or proposals")]
    Admin,
    #[error("only sellers send proposals")]
    NotSeller,
    #[error("invalid fields")]
    Invalid(Errors),
    #[error("moderation refused the text")]
    Moderation(Vec<Finding>),
    #[error("too many open briefs")]
    TooManyOpen,
    #[error("rate limited for {0}s")]
    RateLimited(u64),
    #[error("no such brief")]
    NotFound,
    #[error("no such proposal")]
    ProposalNotFound,
    #[error("the brief is no longer open")]
    NotOpen(BriefStatus),
    #[error("a seller cannot bid on their own brief")]
    OwnBrief,
    #[error("the seller bid on this brief already")]
    Duplicate,
    #[error("the proposal is {0:?}")]
    ProposalNotSubmitted(ProposalStatus),
    #[error("the seller can no longer take orders")]
    SellerGone,
    #[error("changed by another request meanwhile")]
    Conflict,
    #[error("attachment {0}: {1:?}")]
    Attachment(String, AttachmentProblem),
    #[error("unsupported attachment type")]
    AttachmentType,
    #[error("attachment too large")]
    AttachmentTooLarge,
    #[error("files: {0}")]
    Files(String),
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    List(#[from] ListError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a file cannot be attached to a brief.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentProblem {
    /// Not an upload of this buyer's for a brief, or nothing was uploaded under it.
    Missing,
    /// Longer than allowed.
    TooLarge,
    /// Its bytes are not what it was uploaded as.
    Mismatch,
    /// Its name has nothing usable in it.
    Name,
}

/// The largest file on a brief.
pub const MAX_ATTACHMENT_BYTES: u64 = 20 * 1024 * 1024;

/// Brief attachment uploads per buyer per hour.
const ATTACHMENTS_PER_HOUR: RateLimit = RateLimit {
    name: "brief-attachments",
    limit: 30,
    window_secs: 3_600,
};

/// Where `buyer` uploads the files of their briefs.
fn attachment_prefix(buyer: crate::domain::UserId) -> String {
    format!("uploads/briefs/{buyer}/")
}

/// `brief-attachment-upload`: a presigned upload for a file of the caller's next brief (or
/// of an open one they edit).
pub async fn start_attachment(
    store: &Store,
    files: &Files,
    user: &User,
    (content_type, content_length): (&str, u64),
    now: DateTime<Utc>,
) -> Result<UploadTicket, BriefError> {
    if user.is_admin() {
        return Err(BriefError::Admin);
    }
    if !super::messaging::ATTACHMENT_TYPES.contains(&content_type) {
        return Err(BriefError::AttachmentType);
    }
    if content_length == 0 || content_length > MAX_ATTACHMENT_BYTES {
        return Err(BriefError::AttachmentTooLarge);
    }
    limited(store, ATTACHMENTS_PER_HOUR, user, now).await?;
    let key = format!("{}{}", attachment_prefix(user.id), ulid::Ulid::new());
    files
        .upload_ticket(key, content_type, content_length, now)
        .await
        .map_err(|e| BriefError::Files(e.to_string()))
}

/// The brief's files from what was sent: those it has already stay as they were (renamed if
/// asked); each new one must be the buyer's upload for a brief, read through once and be
/// what it was uploaded as.
async fn attachments(
    files: Option<&Files>,
    buyer: &User,
    sent: Vec<(String, String)>,
    had: &[BriefFile],
) -> Result<Vec<BriefFile>, BriefError> {
    use crate::files::UploadProblem;
    let mut out: Vec<BriefFile> = Vec::with_capacity(sent.len());
    for (key, name) in sent {
        let key = key.trim().to_owned();
        if out.iter().any(|f| f.key == key) {
            continue;
        }
        let name = crate::domain::file::sanitise_name(&name)
            .ok_or_else(|| BriefError::Attachment(key.clone(), AttachmentProblem::Name))?;
        if let Some(f) = had.iter().find(|f| f.key == key) {
            out.push(BriefFile { name, ..f.clone() });
            continue;
        }
        if !key.starts_with(&attachment_prefix(buyer.id)) || key.contains("..") {
            return Err(BriefError::Attachment(key, AttachmentProblem::Missing));
        }
        let files = files.ok_or_else(|| BriefError::Files("no media bucket".into()))?;
        let checked = files
            .check_uploaded(&key, MAX_ATTACHMENT_BYTES)
            .await
            .map_err(|e| BriefError::Files(e.to_string()))?;
        let checked = match checked {
            Ok(c) if c.is_what_it_says() => c,
            Ok(_) => return Err(BriefError::Attachment(key, AttachmentProblem::Mismatch)),
            Err(UploadProblem::Missing) => {
                return Err(BriefError::Attachment(key, AttachmentProblem::Missing));
            }
            Err(UploadProblem::TooLarge) => {
                return Err(BriefError::Attachment(key, AttachmentProblem::TooLarge));
            }
        };
        out.push(BriefFile {
            key,
            name,
            content_type: checked.content_type,
            size: checked.size,
            sha256: checked.sha256,
        });
    }
    Ok(out)
}

async fn limited(
    store: &Store,
    limit: RateLimit,
    user: &User,
    now: DateTime<Utc>,
) -> Result<(), BriefError> {
    match store
        .hit_rate_limit(limit, &user.id.to_string(), now)
        .await?
    {
        Ok(()) => Ok(()),
        Err(r) => Err(BriefError::RateLimited(r.retry_after_secs)),
    }
}

fn moderated(fields: &[(&str, &str)]) -> Result<(), BriefError> {
    let findings = moderation::check(fields)?;
    if findings.is_empty() {
        Ok(())
    } else {
        Err(BriefError::Moderation(findings))
    }
}

fn moderate_brief(b: &Brief) -> Result<(), BriefError> {
    moderated(&[
        ("title", &b.content.title),
        ("description", &b.content.description),
    ])
}

/// `brief-create`: checks first (a refused brief costs no quota), then the daily limit, then
/// one transaction with the buyer's open count.
#[instrument(skip_all, fields(user_id = %user.id), err)]
pub async fn create(
    store: &Store,
    files: Option<&Files>,
    user: &User,
    input: BriefInput,
    now: DateTime<Utc>,
) -> Result<Brief, BriefError> {
    if user.is_admin() {
        return Err(BriefError::Admin);
    }
    let catalog = catalog(store).await?;
    let sent = input.attachments.clone();
    let mut content = input.parse(&catalog, now).map_err(BriefError::Invalid)?;
    if let Some(sent) = sent.filter(|s| !s.is_empty()) {
        content.attachments = attachments(files, user, sent, &[]).await?;
    }
    let brief = Brief::new(user.id, user.username.as_str(), content, now);
    moderate_brief(&brief)?;
    limited(store, RateLimit::BRIEF_CREATE_PER_USER, user, now).await?;
    match store.create_brief(&brief).await? {
        BriefCreate::Created => Ok(brief),
        BriefCreate::TooMany => Err(BriefError::TooManyOpen),
    }
}

/// A brief by id: anyone may read it (unlisted ones too, by their link).
pub async fn get(store: &Store, id: BriefId) -> Result<Brief, BriefError> {
    store
        .get_brief(id, false)
        .await?
        .ok_or(BriefError::NotFound)
}

pub async fn list(
    store: &Store,
    listing: BriefListing,
    budget: (Option<Money>, Option<Money>),
    limit: i32,
    cursor: Option<&str>,
) -> Result<Page<Brief>, BriefError> {
    Ok(store.list_briefs(&listing, budget, limit, cursor).await?)
}

/// The caller's own brief (another user's is not found).
async fn own(store: &Store, user: &User, id: BriefId) -> Result<Brief, BriefError> {
    store
        .get_brief(id, true)
        .await?
        .filter(|b| b.client_id == user.id)
        .ok_or(BriefError::NotFound)
}

/// `brief-update`: the buyer edits an open brief; the fields sent are laid over the brief
/// and checked whole, under its version (a proposal arriving meanwhile means a fresh read).
#[instrument(skip_all, fields(user_id = %user.id), err)]
pub async fn update(
    store: &Store,
    files: Option<&Files>,
    user: &User,
    id: BriefId,
    edit: impl Fn(BriefInput) -> BriefInput,
    now: DateTime<Utc>,
) -> Result<Brief, BriefError> {
    let catalog = catalog(store).await?;
    let mut tries = super::Tries::new();
    while tries.next().await {
        let brief = own(store, user, id).await?;
        if brief.status != BriefStatus::Open {
            return Err(BriefError::NotOpen(brief.status));
        }
        let mut next = brief.clone();
        let input = edit(brief.content.to_input());
        let sent = input.attachments.clone();
        next.content = input.parse(&catalog, now).map_err(BriefError::Invalid)?;
        next.content.attachments = match sent {
            Some(sent) => attachments(files, user, sent, &brief.content.attachments).await?,
            None => brief.content.attachments.clone(),
        };
        moderate_brief(&next)?;
        next.updated_at = now;
        next.version += 1;
        if store.replace_brief(&next, brief.version).await? {
            return Ok(next);
        }
    }
    Err(BriefError::Conflict)
}

/// `brief-close`: the buyer closes an open brief without an order; its proposals are
/// declined.
#[instrument(skip_all, fields(user_id = %user.id), err)]
pub async fn close(
    store: &Store,
    user: &User,
    id: BriefId,
    now: DateTime<Utc>,
) -> Result<Brief, BriefError> {
    let mut tries = super::Tries::new();
    while tries.next().await {
        let brief = own(store, user, id).await?;
        if brief.status != BriefStatus::Open {
            return Err(BriefError::NotOpen(brief.status));
        }
        let mut next = brief.clone();
        next.status = BriefStatus::Closed;
        next.closed_at = Some(now);
        next.updated_at = now;
        next.version += 1;
        if store.replace_brief(&next, brief.version).await? {
            return Ok(next);
        }
    }
    Err(BriefError::Conflict)
}

/// A proposal as its reader sees it: one still submitted on a brief that is no longer open
/// was declined.
pub fn shown_status(brief: &Brief, p: &Proposal) -> ProposalStatus {
    match (p.status, brief.status) {
        (ProposalStatus::Submitted, BriefStatus::Awarded | BriefStatus::Closed) => {
            ProposalStatus::Declined
        }
        (s, _) => s,
    }
}

/// `proposal-create`: a seller bids once per brief, on an open brief that is not their own.
#[instrument(skip_all, fields(user_id = %seller.id), err)]
pub async fn propose(
    store: &Store,
    seller: &User,
    brief_id: BriefId,
    terms: ProposalTerms,
    now: DateTime<Utc>,
) -> Result<(Brief, Proposal), BriefError> {
    if !seller.is_seller() {
        return Err(BriefError::NotSeller);
    }
    let brief = get(store, brief_id).await?;
    if brief.client_id == seller.id {
        return Err(BriefError::OwnBrief);
    }
    if brief.status != BriefStatus::Open {
        return Err(BriefError::NotOpen(brief.status));
    }
    moderated(&[("message", &terms.message)])?;
    if store.proposal_of(brief_id, seller.id).await?.is_some() {
        return Err(BriefError::Duplicate);
    }
    limited(store, RateLimit::PROPOSAL_CREATE_PER_USER, seller, now).await?;
    let proposal = Proposal::new(&brief, seller.id, seller.username.as_str(), terms, now);
    match store.create_proposal(&proposal).await? {
        ProposalCreate::Created => Ok((brief, proposal)),
        ProposalCreate::Duplicate => Err(BriefError::Duplicate),
        ProposalCreate::NotOpen => Err(BriefError::NotOpen(
            store
                .get_brief(brief_id, true)
                .await?
                .map_or(BriefStatus::Closed, |b| b.status),
        )),
    }
}

/// `proposal-list`: the buyer sees every proposal; anyone else only their own.
pub async fn proposals(
    store: &Store,
    viewer: &User,
    brief_id: BriefId,
) -> Result<(Brief, Vec<Proposal>), BriefError> {
    let brief = get(store, brief_id).await?;
    let list = if brief.client_id == viewer.id || viewer.is_admin() {
        store.proposals_of(brief_id).await?
    } else {
        store
            .proposal_of(brief_id, viewer.id)
            .await?
            .into_iter()
            .collect()
    };
    Ok((brief, list))
}

/// `proposal-mine`: the caller's proposals across briefs, newest first, each with its brief
/// (a brief since removed: `None`).
pub async fn my_proposals(
    store: &Store,
    seller: &User,
    limit: i32,
    cursor: Option<&str>,
) -> Result<Page<(Proposal, Option<Brief>)>, BriefError> {
    Ok(store.seller_proposals(seller.id, limit, cursor).await?)
}

/// `proposal-withdraw`: a seller takes back their proposal while the brief is open.
#[instrument(skip_all, fields(user_id = %seller.id), err)]
pub async fn withdraw(
    store: &Store,
    seller: &User,
    brief_id: BriefId,
    id: ProposalId,
    now: DateTime<Utc>,
) -> Result<(Brief, Proposal), BriefError> {
    let mut p = store
        .get_proposal(brief_id, id)
        .await?
        .filter(|p| p.seller_id == seller.id)
        .ok_or(BriefError::ProposalNotFound)?;
    let brief = get(store, brief_id).await?;
    if p.status != ProposalStatus::Submitted {
        return Err(BriefError::ProposalNotSubmitted(shown_status(&brief, &p)));
    }
    if brief.status != BriefStatus::Open {
        return Err(BriefError::NotOpen(brief.status));
    }
    p.updated_at = now;
    if !store.withdraw_proposal(&p).await? {
        return Err(BriefError::Conflict);
    }
    p.status = ProposalStatus::Withdrawn;
    p.version += 1;
    Ok((brief, p))
}

/// `proposal-accept`: the buyer chooses a proposal; it becomes an unpaid order at its price,
/// days and revisions, with the brief's category's commission, and the brief is awarded —
/// in one transaction, so one brief gives one order however often or concurrently it is
/// accepted. Accepting the accepted proposal again answers its order.
#[instrument(skip_all, fields(user_id = %client.id), err)]
pub async fn accept(
    store: &Store,
    clearance: &ClearancePolicy,
    client: &User,
    (brief_id, id): (BriefId, ProposalId),
    now: DateTime<Utc>,
) -> Result<Order, BriefError> {
    let mut tries = super::Tries::new();
    while tries.next().await {
        let brief = own(store, client, brief_id).await?;
        let proposal = store
            .get_proposal(brief_id, id)
            .await?
            .ok_or(BriefError::ProposalNotFound)?;
        if let Some(award) = brief.award {
            if award.proposal_id == id
                && let Some(order) = store.get_order(award.order_id, true).await?
            {
                return Ok(order);
            }
            return Err(BriefError::NotOpen(brief.status));
        }
        if brief.status != BriefStatus::Open {
            return Err(BriefError::NotOpen(brief.status));
        }
        if proposal.status != ProposalStatus::Submitted {
            return Err(BriefError::ProposalNotSubmitted(proposal.status));
        }
        let terms = super::orders::custom_order_terms(
            store,
            clearance,
            proposal.seller_id,
            (
                &brief.content.category.slug,
                &brief.content.parent_category.slug,
            ),
            now,
        )
        .await?
        .ok_or(BriefError::SellerGone)?;
        let order = Order::from_proposal(client, &brief, &proposal, terms, now);
        let mut awarded = brief.clone();
        awarded.status = BriefStatus::Awarded;
        awarded.award = Some(Award {
            proposal_id: proposal.id,
            seller_id: proposal.seller_id,
            order_id: order.id,
        });
        awarded.updated_at = now;
        awarded.version += 1;
        let companions = store.award_ops(&awarded, brief.version, &proposal)?;
        match store.create_order(&order, None, companions).await? {
            Ok(()) => {
                tracing::info!(brief_id = %brief_id, order_id = %order.id, "brief awarded");
                return Ok(order);
            }
            // The brief or the proposal changed meanwhile: read again and decide again.
            Err(TransitionRefusal::Stale) => continue,
            Err(other) => {
                return Err(StoreError::Decode(format!("awarding {brief_id}: {other:?}")).into());
            }
        }
    }
    Err(BriefError::Conflict)
}
