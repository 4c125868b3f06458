//! The GraphiQL playground: its page and the files it runs on, all served from the binary
//! (`src/http/graphiql/`, vendored from the npm registry), so that nothing is fetched from
//! another host.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::error::HttpError;

/// One vendored file: its name under `/graphiql/assets/`, its media type and its gzip bytes.
struct Asset {
    name: &'static str,
    media_type: &'static str,
    gzip: &'static [u8],
}

/// The files the page loads. Their names carry the package versions, so they are cached for a
/// year.
const ASSETS: [Asset; 4] = [
    Asset {
        name: "graphiql-3.7.1.min.js",
        media_type: "text/javascript; charset=utf-8",
        gzip: include_bytes!("graphiql/graphiql.min.js.gz"),
    },
    Asset {
        name: "graphiql-3.7.1.min.css",
        media_type: "text/css; charset=utf-8",
        gzip: include_bytes!("graphiql/graphiql.min.css.gz"),
    },
    Asset {
        name: "react-18.3.1.production.min.js",
        media_type: "text/javascript; charset=utf-8",
        gzip: include_bytes!("graphiql/react.production.min.js.gz"),
    },
    Asset {
        name: "react-dom-18.3.1.production.min.js",
        media_type: "text/javascript; charset=utf-8",
        gzip: include_bytes!("graphiql/react-dom.production.min.js.gz"),
    },
];

/// `GET /graphiql`: the page. A token in the address's fragment (`/graphiql#token=odk_…`,
/// which browsers never send to the server) fills the `Authorization` header.
pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(include_str!("graphiql.html"))
}

/// `GET /graphiql/assets/{name}`: a vendored file, gzip-encoded (every browser accepts it).
pub async fn asset(name: web::Path<String>) -> Result<HttpResponse, HttpError> {
    let asset = ASSETS
        .iter()
        .find(|a| a.name == name.as_str())
        .ok_or(HttpError::NotFound("no such GraphiQL file"))?;
    Ok(HttpResponse::Ok()
        .content_type(asset.media_type)
        .insert_header((header::CONTENT_ENCODING, "gzip"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(asset.gzip))
}
