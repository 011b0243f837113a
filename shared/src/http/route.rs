//! One route of the HTTP API as its handler's module states it (`routes()` beside the
//! handlers): method, path, function, who may call it, what it takes and answers. `api::openapi`
//! assembles every module's routes into the OpenAPI document.

use std::collections::BTreeMap;

use utoipa::ToSchema;
pub(crate) use utoipa::openapi::Type;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; a token, when sent, is not needed.
    Public,
    /// Anyone; a valid token shows more (owners see their own drafts).
    OptionalUser,
    /// A signed-in account.
    User,
    /// A signed-in operator.
    Admin,
    /// A payment gateway, authenticated by its signature.
    Gateway,
}

pub(crate) type SchemaFn = fn(&mut Components) -> RefOr<Schema>;

/// What a route takes in its body.
#[derive(Clone, Copy)]
pub(crate) enum In {
    Nothing,
    Json(SchemaFn),
    /// `application/x-www-form-urlencoded` (Alipay's notifications).
    Form,
}

/// What a route answers with when it succeeds.
#[derive(Clone, Copy)]
pub(crate) enum Out {
    /// The envelope with this `data`.
    Data(u16, SchemaFn),
    /// The envelope with `data: null`.
    Accepted,
    NoContent,
    /// A plain-text body (what Alipay expects from a notification's receiver).
    Text(&'static str),
    Html,
    /// A document that is not in the envelope (this one).
    Raw,
}

/// A query parameter: name, type, description.
pub(crate) type Q = (&'static str, Type, &'static str);

/// One route of the HTTP API.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: &'static str,
    pub access: Access,
    pub(crate) tag: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) query: Vec<Q>,
    pub(crate) input: In,
    pub(crate) output: Out,
    /// Errors beyond those every route of its kind can answer.
    pub(crate) errors: &'static [u16],
    /// What a client should know beyond the summary.
    pub(crate) notes: Option<&'static str>,
}

/// Named schemas collected while the routes are described.
#[derive(Default)]
pub struct Components {
    pub(crate) schemas: BTreeMap<String, RefOr<Schema>>,
    /// Names given to two different types (`#[schema(as = …)]` tells them apart).
    pub(crate) clashes: Vec<String>,
}

impl Components {
    pub(crate) fn of<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let mut nested = Vec::new();
        T::schemas(&mut nested);
        let name = T::name().into_owned();
        nested.push((name.clone(), T::schema()));
        for (n, schema) in nested {
            if let Some(old) = self.schemas.get(&n)
                && old != &schema
            {
                self.clashes.push(n.clone());
            }
            self.schemas.insert(n, schema);
        }
        Ref::from_schema_name(name).into()
    }
}

pub(crate) fn one<T: ToSchema>(c: &mut Components) -> RefOr<Schema> {
    c.of::<T>()
}

pub(crate) fn list<T: ToSchema>(c: &mut Components) -> RefOr<Schema> {
    ArrayBuilder::new().items(c.of::<T>()).into()
}

/// A cursor page: `{items, next_cursor}`.
pub(crate) fn page<T: ToSchema>(c: &mut Components) -> RefOr<Schema> {
    ObjectBuilder::new()
        .property("items", ArrayBuilder::new().items(c.of::<T>()))
        .required("items")
        .property(
            "next_cursor",
            ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                    Type::String,
                    Type::Null,
                ]))
                .description(Some(
                    "下一页的游标；没有更多时为 null / null on the last page",
                )),
        )
        .required("next_cursor")
        .into()
}

pub(crate) fn route(
    method: &'static str,
    path: &'static str,
    function: &'static str,
    access: Access,
    tag: &'static str,
    summary: &'static str,
) -> Route {
    Route {
        method,
        path,
        function,
        access,
        tag,
        summary,
        query: Vec::new(),
        input: In::Nothing,
        output: Out::Data(200, |_| ObjectBuilder::new().into()),
        errors: &[],
        notes: None,
    }
}

impl Route {
    pub(crate) fn notes(mut self, text: &'static str) -> Route {
        self.notes = Some(text);
        self
    }

    pub(crate) fn body(mut self, f: SchemaFn) -> Route {
        debug_assert!(
            matches!(self.input, In::Nothing),
            "{} {}: a second request body would replace the first",
            self.method,
            self.path
        );
        self.input = In::Json(f);
        self
    }
    pub(crate) fn form(mut self) -> Route {
        self.input = In::Form;
        self
    }
    pub(crate) fn ok(mut self, f: SchemaFn) -> Route {
        self.output = Out::Data(200, f);
        self
    }
    pub(crate) fn created(mut self, f: SchemaFn) -> Route {
        self.output = Out::Data(201, f);
        self
    }
    pub(crate) fn out(mut self, o: Out) -> Route {
        self.output = o;
        self
    }
    pub(crate) fn query(mut self, q: &[Q]) -> Route {
        self.query.extend_from_slice(q);
        self
    }
    pub(crate) fn paged(self) -> Route {
        self.query(&[
            (
                "limit",
                Type::Integer,
                "每页条数，1–100，默认 20 / page size, 1–100, default 20",
            ),
            (
                "cursor",
                Type::String,
                "上一页的 next_cursor / the previous page's next_cursor",
            ),
        ])
    }
    pub(crate) fn errors(mut self, e: &'static [u16]) -> Route {
        self.errors = e;
        self
    }
}

pub(crate) const STATUS_ORDER: Q = (
    "status",
    Type::String,
    "pending | in_progress | delivered | completed | cancelled | disputed",
);
