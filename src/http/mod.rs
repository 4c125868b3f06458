//! HTTP routes only: GraphQL and GraphiQL, health, logo and document downloads, and
//! BigCommerce's calls (app callbacks, webhook deliveries).

mod auth;
mod bigcommerce;
mod documents;
pub(crate) mod error;
mod graphiql;
mod graphql;
mod health;
mod logos;
mod metrics;
mod ws;

pub use metrics::server as metrics_server;

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::{Server, Service};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Condition;
use actix_web::{web, App, HttpMessage, HttpServer};
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder, TracingLogger};

use crate::graphql::AppSchema;
use crate::state::AppState;

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/graphql", web::post().to(graphql::post))
        .route("/graphql", web::get().to(graphql::get))
        .route("/graphql/ws", web::get().to(ws::subscriptions))
        .route("/graphiql", web::get().to(graphiql::page))
        .route("/graphiql/assets/{name}", web::get().to(graphiql::asset))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/integrations/{id}/logo", web::get().to(logos::download))
        .route(
            "/documents/invoices.pdf",
            web::get().to(documents::invoices),
        )
        .route("/documents/labels.pdf", web::get().to(documents::labels))
        .route(
            "/documents/pick-list.pdf",
            web::get().to(documents::pick_list),
        )
        .route(
            "/documents/packing-slips.pdf",
            web::get().to(documents::packing_slips),
        )
        .route("/documents/links/{token}", web::get().to(documents::link))
        .route(
            "/exports/stock/{token}",
            web::get().to(documents::stock_export),
        )
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

/// The request span of `tracing-actix-web`, with `http.target` holding the path only and
/// secrets in the path masked ([`loggable_path`]): query strings carry install codes, signed
/// payloads (BigCommerce callbacks) and whatever a client puts there, and none of it may
/// reach the logs. Built here rather than amended, because a text log prints a recorded field
/// next to the original instead of replacing it.
pub struct PathOnlySpan;

impl RootSpanBuilder for PathOnlySpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        let route = request.match_pattern();
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route.as_deref().unwrap_or("default"),
            http.target = %loggable_path(request.path()),
            http.client_ip = %request.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default(),
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// The path as logged: a signed document link is a bearer credential for its lifetime, so
/// its token is replaced by `***`.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    const LINKS: &str = "/documents/links/";
    match path.strip_prefix(LINKS) {
        Some(rest) if !rest.is_empty() => format!("{LINKS}***").into(),
        _ => path.into(),
    }
}

/// Paths BigCommerce shows inside its control panel (in an iframe).
const FRAMED_PATHS: [&str; 2] = ["/bigcommerce/auth", "/bigcommerce/load"];
/// Who may frame [`FRAMED_PATHS`]: the BigCommerce control panel.
const CONTROL_PANEL_FRAMING: &str =
    "frame-ancestors https://*.bigcommerce.com https://*.mybigcommerce.com";

/// Security headers on every answer: no content sniffing, no referrer (a document link in a
/// page's URL must not leak to another site), and no framing except the app pages the
/// BigCommerce control panel frames.
fn secure_headers(path: &str, headers: &mut header::HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if FRAMED_PATHS.contains(&path) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTROL_PANEL_FRAMING),
        );
    } else {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
}

/// Cross-origin access for the frontends of `ORDERDECK_CORS_ORIGINS`: exact origins only,
/// the methods and headers the API uses (a bearer token, JSON or multipart bodies), preflights
/// cached for an hour, and the download's file name readable by the page. Any other origin
/// gets no CORS headers, so its browser refuses the answer.
fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([
            header::CONTENT_DISPOSITION,
            HeaderName::from_static("x-request-id"),
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
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
    let origins = data.settings.cors_origins.clone();
    let connections = web::Data::new(ws::Connections::default());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(schema.clone())
            .app_data(connections.clone())
            .configure(routes)
            .wrap_fn(|req, srv| {
                let id = req.extensions().get::<RequestId>().copied();
                let path = req.path().to_string();
                let counted = metrics::Counted::start(&req);
                let call = srv.call(req);
                async move {
                    let res = call.await;
                    if let Some(counted) = counted {
                        counted.end(&res);
                    }
                    let mut res = res?;
                    secure_headers(&path, res.headers_mut());
                    if let Some(value) =
                        id.and_then(|id| HeaderValue::from_str(&id.to_string()).ok())
                    {
                        res.headers_mut()
                            .insert(HeaderName::from_static("x-request-id"), value);
                    }
                    Ok(res)
                }
            })
            .wrap(Condition::new(!origins.is_empty(), cors(&origins)))
            .wrap(TracingLogger::<PathOnlySpan>::new())
    })
    .shutdown_timeout(shutdown)
    .listen(listener)?
    .run();
    Ok(server)
}
