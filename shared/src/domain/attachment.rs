//! A checked file as it is attached to something.

use serde::{Deserialize, Serialize};

use super::FileId;

/// A checked file as attached to a delivery, a dispute or a verification: what the other side
/// sees of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub file_id: FileId,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    /// A small JPEG preview exists (pictures).
    #[serde(default)]
    pub preview: bool,
}
