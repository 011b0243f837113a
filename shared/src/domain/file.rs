//! Private files: what each purpose takes, what an upload must really be (judged from its bytes,
//! never its name or declared type), the name it is saved under, and who may download it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use super::attachment::Attachment;
use super::order::{Order, OrderStatus};
use super::{FileId, OrderId, UserId};

/// What a private file is for. Each purpose has its own limits and its own readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Work the freelancer hands in (attached to a delivery).
    Delivery,
    /// What the client gives the freelancer to work from.
    Requirements,
    /// Either party's evidence for a dispute (attached when it is opened).
    Evidence,
    /// An identity document for 实名认证 (ID card sides, business licence).
    Document,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Delivery => "delivery",
            Purpose::Requirements => "requirements",
            Purpose::Evidence => "evidence",
            Purpose::Document => "document",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        [
            Purpose::Delivery,
            Purpose::Requirements,
            Purpose::Evidence,
            Purpose::Document,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    /// What an upload of this purpose may be.
    pub fn limits(self) -> Limits {
        match self {
            Purpose::Delivery => Limits {
                max_bytes: 100 * MB,
                types: WORK_TYPES,
            },
            Purpose::Requirements => Limits {
                max_bytes: 20 * MB,
                types: WORK_TYPES,
            },
            Purpose::Evidence => Limits {
                max_bytes: 20 * MB,
                types: EVIDENCE_TYPES,
            },
            Purpose::Document => Limits {
                max_bytes: 5 * MB,
                types: DOCUMENT_TYPES,
            },
        }
    }
}

const MB: u64 = 1024 * 1024;

/// Files one delivery, one dispute or one order's requirements may carry.
pub const MAX_FILES_PER_STEP: usize = 10;
/// Documents one 实名认证 submission may carry.
pub const MAX_DOCUMENTS: usize = 4;
/// Longest saved file name, in characters.
pub const MAX_NAME_CHARS: usize = 120;

/// What one purpose takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: u64,
    pub types: &'static [&'static str],
}

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";

/// Finished work: pictures, documents, archives, design files, audio and video.
const WORK_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "image/vnd.adobe.photoshop",
    "application/pdf",
    "application/zip",
    "application/x-7z-compressed",
    "application/vnd.rar",
    DOCX,
    XLSX,
    PPTX,
    "text/plain",
    "audio/mpeg",
    "video/mp4",
];

/// Screenshots, documents and recordings.
const EVIDENCE_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "application/pdf",
    "application/zip",
    "text/plain",
    "video/mp4",
];

/// Photos or scans of a document.
const DOCUMENT_TYPES: &[&str] = &["image/jpeg", "image/png", "application/pdf"];

/// How many leading bytes [`judge`] needs.
pub const HEAD_BYTES: usize = 8 * 1024;

/// Whether the bytes of a file are what its uploader declared: the type read from the file's
/// signature must be the declared one. Office documents are ZIP containers, so a ZIP signature
/// passes for them; plain text has no signature and must be UTF-8 without NUL bytes.
pub fn judge(declared: &str, head: &[u8]) -> Result<(), Mismatch> {
    let found = infer::get(head).map(|t| t.mime_type());
    let ok = match (declared, found) {
        ("text/plain", None) => looks_like_text(head),
        (d, Some(f)) if d == f => true,
        (DOCX | XLSX | PPTX, Some("application/zip")) => true,
        ("video/mp4", Some("video/quicktime")) => true,
        ("application/vnd.rar", Some("application/x-rar-compressed")) => true,
        // Word 97–2003: an OLE compound file (what is inside is not read here).
        ("application/msword", _) => head.starts_with(&OLE_SIGNATURE),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Mismatch {
            found: found.unwrap_or("unknown").to_owned(),
        })
    }
}

/// The first bytes of an OLE compound file (Word 97–2003 documents).
const OLE_SIGNATURE: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// The bytes of a file are not what was declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// What the bytes are (a MIME type, or `unknown`).
    pub found: String,
}

fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        // The head may end inside a character.
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

/// A file name as uploaded, made safe to save and show: the last path segment only, control
/// characters and `\ / : * ? " < > |` replaced, no leading dots, at most
/// [`MAX_NAME_CHARS`] characters (the extension kept). `None` when nothing usable is left.
pub fn sanitise_name(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    if trimmed.is_empty() || trimmed.chars().all(|c| c == '_') {
        return None;
    }
    if trimmed.chars().count() <= MAX_NAME_CHARS {
        return Some(trimmed.to_owned());
    }
    let (stem, ext) = match trimmed.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && e.chars().count() <= 10 => (s, Some(e)),
        _ => (trimmed, None),
    };
    let room = MAX_NAME_CHARS - ext.map_or(0, |e| e.chars().count() + 1);
    let stem: String = stem.chars().take(room).collect();
    Some(match ext {
        Some(e) => format!("{stem}.{e}"),
        None => stem,
    })
}

/// Where a file stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Upload URL issued; the bytes have not been checked yet.
    Pending,
    /// Checked: it may be attached and downloaded.
    Ready,
    /// Not what was declared, too large or unreadable: deleted, the uploader told.
    Rejected,
}

/// One private file and what is known about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    pub id: FileId,
    pub owner_id: UserId,
    pub purpose: Purpose,
    /// The order it belongs to (deliveries, requirements, evidence).
    #[serde(default)]
    pub order_id: Option<OrderId>,
    /// The saved name (sanitised).
    pub name: String,
    /// The declared type, which the bytes were checked against.
    pub content_type: String,
    /// The length the upload URL was signed for.
    pub declared_bytes: u64,
    pub status: FileStatus,
    #[serde(default)]
    pub size: Option<u64>,
    /// SHA-256 of the bytes, lower-case hex.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Why it was rejected.
    #[serde(default)]
    pub reason: Option<String>,
    /// When it was last attached (to a delivery, a dispute, a verification).
    #[serde(default)]
    pub attached_at: Option<DateTime<Utc>>,
    /// A small JPEG preview was made (pictures).
    #[serde(default)]
    pub has_preview: bool,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub checked_at: Option<DateTime<Utc>>,
}

impl StoredFile {
    /// The attachment of a checked file.
    pub fn attachment(&self) -> Option<Attachment> {
        match (self.status, self.size, &self.sha256) {
            (FileStatus::Ready, Some(size), Some(sha256)) => Some(Attachment {
                file_id: self.id,
                name: self.name.clone(),
                content_type: self.content_type.clone(),
                size,
                sha256: sha256.clone(),
                preview: self.has_preview,
            }),
            _ => None,
        }
    }
}

/// Who is asking to download a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader {
    pub user_id: UserId,
    pub is_admin: bool,
}

/// Whether `reader` may see `file` (and download it once checked), given its order (for order files) and whether the
/// owner's 实名认证 is waiting for review (for documents). The uploader always may; the other
/// party once the file is attached (requirements once checked); operators only while they
/// handle the case: a disputed order's files, a pending verification's documents.
pub fn may_read(
    file: &StoredFile,
    reader: Reader,
    order: Option<&Order>,
    verification_pending: bool,
) -> bool {
    if file.owner_id == reader.user_id {
        return true;
    }
    if file.status == FileStatus::Rejected {
        return false;
    }
    match file.purpose {
        Purpose::Document => reader.is_admin && verification_pending && file.attached_at.is_some(),
        Purpose::Delivery | Purpose::Requirements | Purpose::Evidence => {
            let Some(order) = order.filter(|o| Some(o.id) == file.order_id) else {
                return false;
            };
            let shared = file.status == FileStatus::Ready
                && (file.attached_at.is_some() || file.purpose == Purpose::Requirements);
            if order.party_of(reader.user_id).is_some() {
                shared
            } else {
                reader.is_admin && shared && order.status == OrderStatus::Disputed
            }
        }
    }
}

/// Who may upload a file of `purpose` to `order` now, and the refusal otherwise.
pub fn may_upload(order: &Order, uploader: UserId, purpose: Purpose) -> Result<(), UploadRefusal> {
    use super::order::Party;
    let party = order.party_of(uploader).ok_or(UploadRefusal::NotFound)?;
    let status = order.status;
    match purpose {
        Purpose::Delivery if party != Party::Freelancer => Err(UploadRefusal::WrongParty),
        Purpose::Delivery if status != OrderStatus::InProgress => Err(UploadRefusal::State),
        Purpose::Requirements if party != Party::Client => Err(UploadRefusal::WrongParty),
        Purpose::Requirements
            if !matches!(status, OrderStatus::Pending | OrderStatus::InProgress)
                || order.deliveries_count > 0 =>
        {
            Err(UploadRefusal::State)
        }
        Purpose::Evidence
            if !matches!(
                status,
                OrderStatus::InProgress | OrderStatus::Delivered | OrderStatus::Disputed
            ) =>
        {
            Err(UploadRefusal::State)
        }
        Purpose::Document => Err(UploadRefusal::WrongParty),
        _ => Ok(()),
    }
}

/// Why an order file cannot be uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadRefusal {
    /// Not a party of the order (told as "no such order").
    NotFound,
    /// This party does not upload files of this purpose.
    WrongParty,
    /// Not at this stage of the order.
    State,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_decide_not_the_declared_type() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(judge("image/png", png), Ok(()));
        let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00";
        assert_eq!(
            judge("image/png", exe),
            Err(Mismatch {
                found: "application/vnd.microsoft.portable-executable".into()
            })
        );
        assert!(judge("application/pdf", b"%PDF-1.7\n").is_ok());
        // Office documents are ZIP containers.
        assert!(judge(DOCX, b"PK\x03\x04\x14\x00\x06\x00").is_ok());
        assert!(judge("text/plain", "交付说明\nREADME".as_bytes()).is_ok());
        assert!(judge("text/plain", b"abc\0def").is_err());
        // A head cut inside a character is still text.
        let cut = &"设计".as_bytes()[..4];
        assert!(judge("text/plain", cut).is_ok());
        assert!(judge("image/jpeg", b"%PDF-1.7").is_err());
        assert!(judge("application/msword", &OLE_SIGNATURE).is_ok());
        assert!(judge("application/msword", b"MZ\x90\x00").is_err());
    }

    #[test]
    fn names_are_saved_safely() {
        assert_eq!(
            sanitise_name("设计稿 v2.pdf").as_deref(),
            Some("设计稿 v2.pdf")
        );
        assert_eq!(
            sanitise_name("C:\\Users\\me\\..\\logo.png").as_deref(),
            Some("logo.png")
        );
        assert_eq!(sanitise_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(sanitise_name(".htaccess").as_deref(), Some("htaccess"));
        assert_eq!(sanitise_name("a\u{0}b?.txt").as_deref(), Some("a_b_.txt"));
        assert_eq!(sanitise_name("  "), None);
        assert_eq!(sanitise_name("???"), None);
        let long = format!("{}.psd", "长".repeat(200));
        let saved = sanitise_name(&long).unwrap();
        assert_eq!(saved.chars().count(), MAX_NAME_CHARS);
        assert!(saved.ends_with(".psd"));
    }

    #[test]
    fn only_the_parties_and_the_operator_of_a_dispute_read_order_files() {
        let mut order = crate::domain::fixtures::order("100.00", 1, Utc::now());
        order.status = OrderStatus::Delivered;
        let now = order.created_at;
        let mut file = StoredFile {
            id: FileId::new(),
            owner_id: order.freelancer_id,
            purpose: Purpose::Delivery,
            order_id: Some(order.id),
            name: "logo.png".into(),
            content_type: "image/png".into(),
            declared_bytes: 10,
            status: FileStatus::Ready,
            size: Some(10),
            sha256: Some("00".into()),
            reason: None,
            attached_at: None,
            has_preview: false,
            created_at: now,
            checked_at: Some(now),
        };
        let client = Reader {
            user_id: order.client_id,
            is_admin: false,
        };
        let admin = Reader {
            user_id: UserId::new(),
            is_admin: true,
        };
        let stranger = Reader {
            user_id: UserId::new(),
            is_admin: false,
        };
        let owner = Reader {
            user_id: order.freelancer_id,
            is_admin: false,
        };
        // Not delivered yet: only its uploader.
        assert!(may_read(&file, owner, Some(&order), false));
        assert!(!may_read(&file, client, Some(&order), false));
        file.attached_at = Some(now);
        assert!(may_read(&file, client, Some(&order), false));
        assert!(!may_read(&file, stranger, Some(&order), false));
        assert!(!may_read(&file, admin, Some(&order), false));
        order.status = OrderStatus::Disputed;
        assert!(may_read(&file, admin, Some(&order), false));
        // Another order's file is never read through this one.
        let other = crate::domain::fixtures::order("100.00", 1, now);
        assert!(!may_read(&file, client, Some(&other), false));
    }

    #[test]
    fn each_party_uploads_its_own_purposes_at_its_own_stage() {
        let mut order = crate::domain::fixtures::order("100.00", 1, Utc::now());
        order.status = OrderStatus::InProgress;
        let (c, f) = (order.client_id, order.freelancer_id);
        assert_eq!(may_upload(&order, f, Purpose::Delivery), Ok(()));
        assert_eq!(
            may_upload(&order, c, Purpose::Delivery),
            Err(UploadRefusal::WrongParty)
        );
        assert_eq!(may_upload(&order, c, Purpose::Requirements), Ok(()));
        assert_eq!(may_upload(&order, c, Purpose::Evidence), Ok(()));
        assert_eq!(
            may_upload(&order, UserId::new(), Purpose::Evidence),
            Err(UploadRefusal::NotFound)
        );
        order.status = OrderStatus::Completed;
        assert_eq!(
            may_upload(&order, f, Purpose::Delivery),
            Err(UploadRefusal::State)
        );
        assert_eq!(
            may_upload(&order, f, Purpose::Evidence),
            Err(UploadRefusal::State)
        );
    }
}
