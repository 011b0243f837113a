//! Pure types and rules: no AWS, no Lambda, no I/O.

pub mod ids;
pub mod money;
pub mod session;
pub mod user;
pub mod values;

pub use ids::{NotificationId, SessionId, UserId};
pub use money::Money;
pub use session::Session;
pub use user::{ClientProfile, FreelancerProfile, User, UserStatus, UserType};
pub use values::{Email, Password, Phone, Username, WechatId};
