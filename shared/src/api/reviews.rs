//! Reviews over HTTP: the client reviews a completed order, the freelancer responds, anybody
//! reads the public ones of a service or a freelancer.

use chrono::Utc;
use lambda_http::Request;
use serde_json::{Map, Value};

use super::common::order_not_found;
use super::common::{moderation_failed, service_not_found, violations};
use super::review_views::ReviewView;
use super::session::signed_in;
use super::views::PageView;
use super::views::user_not_found;
use crate::app::reviews::{self as app, ReviewError};
use crate::deps::Deps;
use crate::domain::review::{ResponseInput, Review, ReviewInput, ReviewRuleError};
use crate::domain::{OrderId, ReviewId, ServiceId, UserId};
use crate::http::route as r;
use crate::http::{ApiError, ListParams, Reply, json_body, path_id};
use crate::i18n::Text;
use crate::store::Page;

fn review_not_found() -> ApiError {
    ApiError::not_found(
        "review.not_found",
        Text::new("评价不存在", "No such review"),
    )
}

impl From<ReviewError> for ApiError {
    fn from(e: ReviewError) -> ApiError {
        match e {
            ReviewError::OrderNotFound => order_not_found(),
            ReviewError::NotFound => review_not_found(),
            ReviewError::ServiceNotFound => service_not_found(),
            ReviewError::UserNotFound => user_not_found(),
            ReviewError::AlreadyReviewed => ApiError::conflict(
                "review.already_reviewed",
                Text::new("该订单已经评价过了", "This order has already been reviewed"),
            ),
            ReviewError::Rule(r) => rule_error(r),
            ReviewError::Store(e) => ApiError::internal(e),
            ReviewError::List(e) => e.into(),
        }
    }
}

fn rule_error(r: ReviewRuleError) -> ApiError {
    match r {
        // The other party's action: as with orders, it does not exist for them.
        ReviewRuleError::NotTheClient => ApiError::not_found(
            "review.wrong_party",
            Text::new(
                "只有该订单的买家可以评价",
                "Only the client of this order can review it",
            ),
        ),
        ReviewRuleError::NotTheFreelancer => ApiError::not_found(
            "review.wrong_party",
            Text::new(
                "只有被评价的卖家可以回复该评价",
                "Only the reviewed freelancer can respond to this review",
            ),
        ),
        ReviewRuleError::NotCompleted => ApiError::conflict(
            "review.order_not_completed",
            Text::new(
                "订单完成后才能评价",
                "An order can be reviewed once it is completed",
            ),
        ),
        ReviewRuleError::WindowClosed => ApiError::conflict(
            "review.window_closed",
            Text::new(
                "订单完成已超过30天，不能再评价",
                "More than 30 days have passed since the order was completed; it can no longer be reviewed",
            ),
        ),
        ReviewRuleError::AlreadyResponded => ApiError::conflict(
            "review.already_responded",
            Text::new("该评价已经回复过了", "This review already has a response"),
        ),
        ReviewRuleError::Moderation(findings) => moderation_failed(
            &findings,
            Text::new(
                "内容未通过审核：请勿包含联系方式或违规词语",
                "The text does not pass moderation: no contact details or prohibited words",
            ),
        ),
        ReviewRuleError::Rules(e) => ApiError::internal(e),
    }
}

fn page(p: Page<Review>) -> Reply {
    Reply::ok(
        Text::new("成功", "OK"),
        PageView {
            items: p.items.iter().map(ReviewView::from).collect::<Vec<_>>(),
            next_cursor: p.next_cursor,
        },
    )
}

/// `POST /orders/{order_id}/review` [review-create]: `{rating 1..5, comment, comment_zh?,
/// is_public?}` by the client of a completed order, once, within 30 days.
pub async fn create(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, user) = signed_in(deps, &req).await?;
    let id: OrderId = path_id(&req, "order_id", order_not_found)?;
    let body: Map<String, Value> = json_body(&req)?;
    let input = ReviewInput::parse(&body).map_err(violations)?;
    let review = app::create(&deps.store, &user, id, input, Utc::now()).await?;
    Ok(Reply::created(
        Text::new("评价已发布", "Review posted"),
        ReviewView::from(&review),
    ))
}

/// `POST /reviews/{review_id}/response` [review-respond]: `{response, response_zh?}` by the
/// reviewed freelancer, once.
pub async fn respond(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, user) = signed_in(deps, &req).await?;
    let id: ReviewId = path_id(&req, "review_id", review_not_found)?;
    let body: Map<String, Value> = json_body(&req)?;
    let input = ResponseInput::parse(&body).map_err(violations)?;
    let review = app::respond(&deps.store, &user, id, input, Utc::now()).await?;
    Ok(Reply::created(
        Text::new("回复已发布", "Response posted"),
        ReviewView::from(&review),
    ))
}

/// `GET /services/{service_id}/reviews` [service-reviews]: public reviews, newest first.
pub async fn of_service(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id: ServiceId = path_id(&req, "service_id", service_not_found)?;
    let params = ListParams::of(&req)?;
    let p = app::of_service(&deps.store, id, params.limit, params.cursor.as_deref()).await?;
    Ok(page(p))
}

/// `GET /users/{user_id}/reviews` [user-reviews]: public reviews received, newest first.
pub async fn of_user(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id: UserId = path_id(&req, "user_id", user_not_found)?;
    let params = ListParams::of(&req)?;
    let p = app::of_user(&deps.store, id, params.limit, params.cursor.as_deref()).await?;
    Ok(page(p))
}

/// The request bodies this module's handlers read field by field (so that every field
/// error is reported at once): their contract, as the document shows it. Their fields are
/// read by the schema derive only.
#[allow(dead_code)]
mod bodies {
    #[derive(utoipa::ToSchema)]
    #[schema(example = json!({"rating": 5, "comment": "Great work", "comment_zh": "设计很专业，沟通顺畅，推荐！"}))]
    pub(crate) struct ReviewBody {
        #[schema(minimum = 1, maximum = 5)]
        rating: u8,
        comment: String,
        comment_zh: Option<String>,
    }

    #[derive(utoipa::ToSchema)]
    #[schema(example = json!({"response": "感谢您的认可，期待再次合作！"}))]
    pub(crate) struct ResponseBody {
        response: String,
        response_zh: Option<String>,
    }
}

/// This module's routes: what each of its handlers takes and answers (`api::openapi`
/// assembles them into the document).
pub(crate) fn routes() -> Vec<r::Route> {
    use r::Access::*;
    vec![
        r::route(
            "GET",
            "/users/{user_id}/reviews",
            "user-reviews",
            Public,
            "users",
            "收到的评价 / Reviews received",
        )
        .paged()
        .ok(r::page::<ReviewView>),
        r::route(
            "GET",
            "/services/{service_id}/reviews",
            "service-reviews",
            Public,
            "services",
            "服务评价 / A service's reviews",
        )
        .paged()
        .ok(r::page::<ReviewView>),
        r::route(
            "POST",
            "/orders/{order_id}/review",
            "review-create",
            User,
            "reviews",
            "评价订单 / Review the order",
        )
        .body(r::one::<bodies::ReviewBody>)
        .created(r::one::<ReviewView>)
        .errors(&[409]),
        r::route(
            "POST",
            "/reviews/{review_id}/response",
            "review-respond",
            User,
            "reviews",
            "回复评价 / Respond to a review",
        )
        .body(r::one::<bodies::ResponseBody>)
        .created(r::one::<ReviewView>)
        .errors(&[409]),
    ]
}
