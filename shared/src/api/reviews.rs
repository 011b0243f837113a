//! Reviews over HTTP: the client reviews a completed order, the seller reviews the client
//! (both sealed until both are in or the 30 days end), the freelancer responds, anybody reads
//! the public ones of a service or a freelancer.

use chrono::Utc;
use lambda_http::Request;
use serde::Deserialize;

use super::common::order_not_found;
use super::common::{moderation_failed, service_not_found, violations};
use super::review_views::{ClientReviewView, ReviewView};
use super::session::signed_in;
use super::views::PageView;
use super::views::user_not_found;
use crate::app::reviews::{self as app, ReviewError};
use crate::deps::Deps;
use crate::domain::review::{self, ResponseInput, Review, ReviewInput, ReviewRuleError};
use crate::domain::service::{Check, Violation};
use crate::domain::{OrderId, ReviewId, ServiceId, UserId};
use crate::field::{Field, Others};
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
        ReviewRuleError::NotTheSeller => ApiError::not_found(
            "review.wrong_party",
            Text::new(
                "只有该订单的卖家可以评价买家",
                "Only the seller of this order can review its buyer",
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
    let input = ReviewInput::try_from(json_body::<ReviewRequest>(&req)?).map_err(violations)?;
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
    let input = ResponseInput::try_from(json_body::<ResponseRequest>(&req)?).map_err(violations)?;
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

/// `review-create`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = ReviewBody, example = json!({"rating": 5, "comment": "Great work", "comment_zh": "设计很专业，沟通顺畅，推荐！"}))]
pub(crate) struct ReviewRequest {
    #[serde(default)]
    #[schema(required = true, value_type = u8, minimum = 1, maximum = 5)]
    rating: Field<u64>,
    #[serde(default)]
    #[schema(required = true, value_type = String, max_length = 2000)]
    comment: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 2000)]
    comment_zh: Field<String>,
    /// Shown on the service and the freelancer's profile (default `true`).
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    is_public: Field<bool>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: Others,
}

impl TryFrom<ReviewRequest> for ReviewInput {
    type Error = Vec<Violation>;

    fn try_from(r: ReviewRequest) -> Result<ReviewInput, Vec<Violation>> {
        let mut c = Check::default();
        review::unknown_fields(&mut c, &r.other);
        let rating = review::rating(&mut c, r.rating);
        let comment = review::required_text(&mut c, "comment", r.comment, "review.invalid_comment");
        let comment_zh =
            review::optional_text(&mut c, "comment_zh", r.comment_zh, "review.invalid_comment");
        let is_public = review::visibility(&mut c, r.is_public);
        match (rating, comment, is_public) {
            (Some(rating), Some(comment), Some(is_public)) if c.violations.is_empty() => {
                Ok(ReviewInput {
                    rating,
                    comment,
                    comment_zh,
                    is_public,
                })
            }
            _ => Err(c.violations),
        }
    }
}

/// `review-client`'s body: the seller's rating of the buyer.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"rating": 5, "comment": "需求清楚，沟通顺畅，付款及时。"}))]
pub(crate) struct ClientReviewRequest {
    #[schema(required = true, minimum = 1, maximum = 5)]
    rating: Option<u8>,
    /// 1–2,000 characters.
    #[schema(required = true, min_length = 1, max_length = 2000)]
    comment: Option<String>,
}

/// `POST /orders/{order_id}/client-review` [review-client]: the seller of a completed order
/// reviews its buyer once (what sellers see of a buyer on briefs) → 201.
pub async fn review_client(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id: OrderId = path_id(&req, "order_id", order_not_found)?;
    let body: ClientReviewRequest = json_body(&req)?;
    let mut errors = crate::http::FieldErrors::new();
    let rating = body.rating.filter(|r| (1..=5).contains(r));
    if rating.is_none() {
        errors.add(
            "rating",
            Text::new("评分须为 1–5 星", "The rating is 1 to 5 stars"),
        );
    }
    let comment = body.comment.unwrap_or_default().trim().to_owned();
    if !(1..=2000).contains(&comment.chars().count()) {
        errors.add(
            "comment",
            Text::new(
                "评价内容须为 1–2000 个字",
                "The comment is 1–2000 characters",
            ),
        );
    }
    errors.finish()?;
    let rating = rating.ok_or_else(|| ApiError::internal("rating checked above"))?;
    let (_, user) = signed_in(deps, &req).await?;
    let r = app::review_client(&deps.store, &user, id, (rating, comment), Utc::now()).await?;
    Ok(Reply::created(
        Text::new("已评价买家", "Buyer reviewed"),
        ClientReviewView::from(&r),
    ))
}

/// `review-respond`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = ResponseBody, example = json!({"response": "感谢您的认可，期待再次合作！"}))]
pub(crate) struct ResponseRequest {
    #[serde(default)]
    #[schema(required = true, value_type = String, max_length = 2000)]
    response: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 2000)]
    response_zh: Field<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: Others,
}

impl TryFrom<ResponseRequest> for ResponseInput {
    type Error = Vec<Violation>;

    fn try_from(r: ResponseRequest) -> Result<ResponseInput, Vec<Violation>> {
        let mut c = Check::default();
        review::unknown_fields(&mut c, &r.other);
        let response =
            review::required_text(&mut c, "response", r.response, "review.invalid_response");
        let response_zh = review::optional_text(
            &mut c,
            "response_zh",
            r.response_zh,
            "review.invalid_response",
        );
        match response {
            Some(response) if c.violations.is_empty() => Ok(ResponseInput {
                response,
                response_zh,
            }),
            _ => Err(c.violations),
        }
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
            "/orders/{order_id}/client-review",
            "review-client",
            User,
            "reviews",
            "评价买家 / Review the buyer",
        )
        .body(r::one::<ClientReviewRequest>)
        .created(r::one::<ClientReviewView>)
        .errors(&[409]),
        r::route(
            "POST",
            "/orders/{order_id}/review",
            "review-create",
            User,
            "reviews",
            "评价订单 / Review the order",
        )
        .body(r::one::<ReviewRequest>)
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
        .body(r::one::<ResponseRequest>)
        .created(r::one::<ReviewView>)
        .errors(&[409]),
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::review::MAX_TEXT_CHARS;

    fn parse_review(v: serde_json::Value) -> Result<ReviewInput, Vec<Violation>> {
        ReviewInput::try_from(serde_json::from_value::<ReviewRequest>(v).unwrap())
    }

    #[test]
    fn ratings_outside_one_to_five_or_not_whole_are_refused() {
        for bad in [
            json!(0),
            json!(6),
            json!(4.5),
            json!("5"),
            json!(-1),
            json!(null),
        ] {
            let v = parse_review(json!({"rating": bad, "comment": "好"})).unwrap_err();
            assert_eq!(v[0].code, "review.invalid_rating", "{bad}");
        }
        for good in 1..=5 {
            let r = parse_review(json!({"rating": good, "comment": " 很好 "})).unwrap();
            assert_eq!(r.rating, good);
            assert_eq!(r.comment, "很好");
            assert!(r.is_public);
        }
    }

    #[test]
    fn a_comment_is_required_and_bounded() {
        let v = parse_review(json!({"rating": 5, "comment": "  "})).unwrap_err();
        assert_eq!(v[0].field, "comment");
        let long = "好".repeat(MAX_TEXT_CHARS + 1);
        let v = parse_review(json!({"rating": 5, "comment": long})).unwrap_err();
        assert_eq!(v[0].code, "review.invalid_comment");
        let v = parse_review(json!({"rating": 5, "comment": "ok", "stars": 5})).unwrap_err();
        assert_eq!(v[0].code, "review.unknown_field");
        let r = parse_review(
            json!({"rating": 4, "comment": "Good", "comment_zh": "", "is_public": false}),
        )
        .unwrap();
        assert_eq!(r.comment_zh, None);
        assert!(!r.is_public);
    }
}
