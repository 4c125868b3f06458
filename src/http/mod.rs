//! HTTP routes only: GraphQL and GraphiQL, health, logo and document downloads, and
//! BigCommerce's calls (app callbacks, webhook deliveries).

mod auth;
mod bigcommerce;
mod documents;
mod graphql;
mod health;
mod logos;

use std::net::TcpListener;

use actix_web::dev::{Server, Service};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{web, App, HttpMessage, HttpServer};
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder, TracingLogger};

use crate::graphql::AppSchema;
use crate::state::AppState;

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/graphql", web::post().to(graphql::post))
        .route("/graphql", web::get().to(graphql::get))
        .route("/graphiql", web::get().to(graphql::graphiql))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/integrations/{id}/logo", web::get().to(logos::download))
        .route(
            "/documents/invoices.pdf",
            web::get().to(documents::invoices),
        )
        .route("/documents/labels.pdf", web::get().to(documents::labels))
        .route("/documents/links/{token}", web::get().to(documents::link))
        .route("/bigcommerce/auth", web::get().to(bigcommerce::auth))
        .route("/bigcommerce/load", web::get().to(bigcommerce::load))
        .route(
            "/bigcommerce/uninstall",
            web::get().to(bigcommerce::uninstall),
        )
        .route(
            "/bigcommerce/remove_user",
            web::get().to(bigcommerce::remove_user),
        )
        .service(
            web::resource("/webhooks/bigcommerce/{id}")
                .app_data(web::PayloadConfig::new(
                    crate::services::webhooks::MAX_BODY_BYTES,
                ))
                .route(web::post().to(bigcommerce::webhook)),
        );
}

/// The request span of `tracing-actix-web` with `http.target` holding the path only: query
/// strings carry install codes and signed payloads (BigCommerce callbacks) that must never
/// reach the logs.
pub struct PathOnlySpan;

impl RootSpanBuilder for PathOnlySpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        let span = DefaultRootSpanBuilder::on_request_start(request);
        span.record("http.target", request.path());
        span
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// Builds the HTTP server on `listener`. It stops gracefully on SIGINT/SIGTERM: no new
/// connections, in-flight requests finish within the shutdown timeout.
pub fn server(
    listener: TcpListener,
    state: AppState,
    schema: AppSchema,
) -> std::io::Result<Server> {
    let shutdown = state.settings.shutdown_timeout.as_secs();
    let data = web::Data::new(state);
    let schema = web::Data::new(schema);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(schema.clone())
            .configure(routes)
            .wrap_fn(|req, srv| {
                let id = req.extensions().get::<RequestId>().copied();
                let call = srv.call(req);
                async move {
                    let mut res = call.await?;
                    if let Some(value) =
                        id.and_then(|id| HeaderValue::from_str(&id.to_string()).ok())
                    {
                        res.headers_mut()
                            .insert(HeaderName::from_static("x-request-id"), value);
                    }
                    Ok(res)
                }
            })
            .wrap(TracingLogger::<PathOnlySpan>::new())
    })
    .shutdown_timeout(shutdown)
    .listen(listener)?
    .run();
    Ok(server)
}
