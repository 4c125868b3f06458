//! PDF invoices, shipping labels, pick lists and packing slips (docs/rules.md §7), drawn with printpdf operations from the
//! templates under `templates/` (page, margins, fonts, sizes, colours, wording, blocks). Pure:
//! documents come in already decided ([`model`]), PDF bytes go out. The services gather the data
//! and run the renderer off the async executor.

mod barcode;
mod canvas;
mod fonts;
mod invoice;
mod label;
mod loading;
pub(crate) mod model;
mod packing_slip;
mod picklist;
mod render;
pub(crate) mod rules;
pub mod sample;
pub(crate) mod template;
#[cfg(test)]
mod tests;

pub use barcode::{check as check_tracking_number, BarcodeError, MAX_TRACKING_LEN};
pub use model::{
    Customs, CustomsItem, DocumentKind, Invoice, InvoiceLine, Label, Logo, PackingLine,
    PackingSlip, PickLine, PickList, PrintedAddress, Sender,
};
pub use render::{RenderError, Rendered, Renderer};
pub use template::{PaperSize, Source, TemplateError};

/// Loads the templates at start: from `configured` (ORDERDECK_TEMPLATES_DIR) when set, else
/// from `./templates` when it exists, else the copies built into the binary.
pub fn load_templates(configured: Option<&std::path::Path>) -> Result<Renderer, TemplateError> {
    let default = std::path::Path::new("templates");
    match configured {
        Some(dir) if !dir.is_dir() => Err(TemplateError {
            file: dir.to_path_buf(),
            line: None,
            message: "the templates directory (ORDERDECK_TEMPLATES_DIR) does not exist".into(),
        }),
        Some(dir) => Renderer::load(&Source::Dir(dir)),
        None if default.is_dir() => Renderer::load(&Source::Dir(default)),
        None => {
            tracing::info!("no ./templates directory: using the built-in document templates");
            Renderer::load(&Source::Builtin)
        }
    }
}
