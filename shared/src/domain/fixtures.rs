//! Domain values for the crate's unit tests, in one place: a field added to an entity is added
//! here once.

use chrono::{DateTime, Duration, Utc};

use super::catalog::Catalog;
use super::order::Order;
use super::service::{MediaKeys, Service, ServiceInput, ServiceStatus};
use super::{Money, OrderId, ServiceId, UserId};

/// A pending order of the basic package at `price` with `revisions`, placed at `now`.
pub fn order(price: &str, revisions: u32, now: DateTime<Utc>) -> Order {
    let mut o = serde_json::from_value::<Order>(serde_json::json!({
        "id": OrderId::new(), "order_number": "ORD20261124160000ABCDEF",
        "client_id": UserId::new(), "client_username": "kehu", "freelancer_id": UserId::new(), "freelancer_username": "sheji", "service_id": ServiceId::new(),
        "service_title": null, "service_title_zh": "Logo设计",
        "package": {"tier": "basic", "price": 0, "description": "", "delivery_days": 3, "revisions": revisions, "features": []},
        "requirements": "", "total_amount": 0, "platform_fee": 0, "freelancer_earnings": 0,
        "status": "pending", "payment_status": "pending", "payment_method": null,
        "delivery_deadline": now + Duration::days(3), "is_late": false,
        "paid_at": null, "delivered_at": null, "completed_at": null, "cancelled_at": null,
        "cancel_reason": null, "revisions_used": 0, "deliveries_count": 0,
        "cancellation": null, "dispute": null, "settlement": null,
        "last_event": {"kind": "placed", "by": "client", "at": now},
        "created_at": now, "updated_at": now, "version": 1
    }))
    .unwrap();
    let total: Money = price.parse().unwrap();
    o.total_amount = total;
    (o.platform_fee, o.freelancer_earnings) = total.split_fee();
    o.package.price = total;
    o
}

/// The seed's catalogue.
pub fn catalog() -> Catalog {
    Catalog::from_seed_json(include_str!("../../../infra/seed/catalog.json")).unwrap()
}

/// A logo-design service with a basic package, in `status`.
pub fn service(status: ServiceStatus, now: DateTime<Utc>) -> Service {
    let input: ServiceInput = serde_json::from_value(serde_json::json!({
        "title_zh": "专业品牌Logo设计，三天交付",
        "description_zh": "简洁易记的品牌标志设计，提供源文件和品牌规范。",
        "category": "logo-design",
        "packages": {"basic": {"price": "199.00", "description": "1 个方案", "delivery_days": 3}}
    }))
    .unwrap();
    let content = input.parse(&catalog(), &MediaKeys::default()).unwrap();
    Service {
        status,
        ..Service::draft(UserId::new(), "sheji", content, now)
    }
}
