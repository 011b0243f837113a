//! A user's data export (PIPL): requested through the API, written to the file store by a
//! worker, downloadable for a week through short-lived links.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{ExportId, UserId};

/// How long an archive is kept (the bucket's lifecycle rule removes it after as long).
pub const ARCHIVE_DAYS: i64 = 7;
/// How long a download link works.
pub const LINK_SECONDS: u64 = 900;
/// A request while the last export is still being written is answered with that one, for up
/// to this long.
const REUSE_MINUTES: i64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportStatus {
    /// Requested; the worker has not written it yet.
    Pending,
    /// Written: it can be downloaded until `archive_expires_at`.
    Ready,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataExport {
    pub id: ExportId,
    pub user_id: UserId,
    pub status: ExportStatus,
    pub requested_at: DateTime<Utc>,
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub size_bytes: Option<u64>,
    /// SHA-256 of the archive, hex.
    #[serde(default)]
    pub sha256: Option<String>,
}

impl DataExport {
    pub fn new(user: UserId, now: DateTime<Utc>) -> DataExport {
        DataExport {
            id: ExportId::new(),
            user_id: user,
            status: ExportStatus::Pending,
            requested_at: now,
            completed_at: None,
            size_bytes: None,
            sha256: None,
        }
    }

    /// Where the archive is kept (a private prefix of the file store).
    pub fn object_key(&self) -> String {
        format!("exports/{}/{}.json", self.user_id, self.id)
    }

    /// The name a browser saves the archive under.
    pub fn file_name(&self) -> String {
        format!(
            "gigbao-export-{}.json",
            super::china_time(self.requested_at).format("%Y%m%d-%H%M%S")
        )
    }

    /// Until when a ready archive can be downloaded.
    pub fn archive_expires_at(&self) -> Option<DateTime<Utc>> {
        self.completed_at.map(|t| t + Duration::days(ARCHIVE_DAYS))
    }

    /// Whether a new request at `now` is answered with this export instead of starting
    /// another: it is still being written. One pending longer than `REUSE_MINUTES` (its
    /// worker gave up; the job waits in the dead-letter queue) does not block a new one.
    pub fn answers_request_at(&self, now: DateTime<Utc>) -> bool {
        self.status == ExportStatus::Pending
            && now - self.requested_at < Duration::minutes(REUSE_MINUTES)
    }

    /// The export as the worker leaves it.
    pub fn ready(mut self, size_bytes: u64, sha256: String, now: DateTime<Utc>) -> DataExport {
        self.status = ExportStatus::Ready;
        self.completed_at = Some(now);
        self.size_bytes = Some(size_bytes);
        self.sha256 = Some(sha256);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn an_export_being_written_answers_a_new_request_but_a_written_or_lost_one_does_not() {
        let e = DataExport::new(UserId::new(), at("2026-12-01T10:00:00Z"));
        assert!(e.answers_request_at(at("2026-12-01T10:59:00Z")));
        // A pending export an hour old is presumed lost: a new request starts another.
        assert!(!e.answers_request_at(at("2026-12-01T11:00:00Z")));
        // A written one is what the data was then: asking again takes a fresh one.
        let ready = e.ready(10, "ab".into(), at("2026-12-01T10:01:00Z"));
        assert!(!ready.answers_request_at(at("2026-12-01T10:02:00Z")));
        assert_eq!(ready.archive_expires_at(), Some(at("2026-12-08T10:01:00Z")));
    }

    #[test]
    fn the_archive_lives_under_the_users_private_prefix_and_saves_under_a_dated_name() {
        let e = DataExport::new(UserId::new(), at("2026-12-01T16:30:00Z"));
        assert_eq!(
            e.object_key(),
            format!("exports/{}/{}.json", e.user_id, e.id)
        );
        assert_eq!(e.file_name(), "gigbao-export-20261202-003000.json");
    }
}
