//! Opaque identifiers. Each is a ULID (time-ordered, 128 bits) behind its own type so that a
//! user id can never be passed where a session id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ulid::Ulid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Ulid);

        impl $name {
            pub fn new() -> Self {
                Self(Ulid::new())
            }

            pub fn from_ulid(ulid: Ulid) -> Self {
                Self(ulid)
            }

            /// The id's 80 random bits.
            pub fn random(&self) -> u128 {
                self.0.random()
            }

            /// Milliseconds since the epoch at which the id was made.
            pub fn timestamp_ms(&self) -> u64 {
                self.0.timestamp_ms()
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ulid::DecodeError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ulid::from_string(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// One login: the family of refresh tokens that rotate from it.
    SessionId
);
id_type!(
    /// An in-app notification.
    NotificationId
);
impl NotificationId {
    /// The id of the notification an event causes: it sorts by the time of the event and is
    /// the same every time the same event is handled, so a redelivered event writes nothing
    /// new.
    pub fn for_event(event_id: &str, occurred_at_ms: u64) -> NotificationId {
        NotificationId::from_ulid(event_ulid(event_id, occurred_at_ms))
    }
}

/// A ULID with an event's time and random bits derived from the event's id: the same event
/// always gives the same id.
pub fn event_ulid(event_id: &str, occurred_at_ms: u64) -> Ulid {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, event_id.as_bytes());
    let mut random = [0u8; 16];
    random[6..].copy_from_slice(&digest.as_ref()[..10]);
    Ulid::from_parts(occurred_at_ms, u128::from_be_bytes(random))
}

id_type!(
    /// One 实名认证 submission.
    VerificationId
);
id_type!(
    /// One entry of the operators' audit log.
    AuditId
);
id_type!(
    /// One uploaded file, before processing.
    UploadId
);

id_type!(
    /// A private file (a delivery, requirements, dispute evidence, an identity document).
    FileId
);

id_type!(
    /// An order of one package of a service.
    OrderId
);
id_type!(
    /// A delivery or a revision request of an order.
    OrderStepId
);
id_type!(
    /// A service (gig) a freelancer sells.
    ServiceId
);
id_type!(
    /// A client's review of a completed order.
    ReviewId
);
id_type!(
    /// A request to take money out of the wallet.
    WithdrawalId
);
id_type!(
    /// One archive of everything held about a user (PIPL export).
    ExportId
);
id_type!(
    /// A buyer's brief (需求).
    BriefId
);
id_type!(
    /// A seller's proposal (投标) on a brief.
    ProposalId
);
id_type!(
    /// A seller's custom offer (定制报价) in a conversation.
    OfferId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_strings() {
        let id = UserId::new();
        let parsed: UserId = id.to_string().parse().unwrap();
        assert_eq!(parsed, id);
        assert!("not-an-id".parse::<UserId>().is_err());
    }
}

id_type!(
    /// A conversation between two users. Derived from the pair and the context (see
    /// `domain::messaging::conversation_id`), so opening it twice finds the same one.
    ConversationId
);
id_type!(
    /// One message of a conversation.
    MessageId
);
id_type!(
    /// A report to the moderators.
    ReportId
);
