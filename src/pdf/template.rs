//! The templates under `templates/`: plain TOML a merchant edits without recompiling. Every
//! value is checked while it is read, so a broken template fails start-up with the file and the
//! line of the fault.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use toml::Spanned;

pub use super::loading::{
    check_date_format, check_placeholders, fault_at, parse, Source, TemplateError,
};

/// Paper a document prints on.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, serde::Serialize, async_graphql::Enum,
)]
pub enum PaperSize {
    /// ISO A4, 210 × 297 mm (invoices).
    #[serde(rename = "A4")]
    #[graphql(name = "A4")]
    A4,
    /// US Letter, 8.5 × 11 in (invoices).
    #[serde(rename = "LETTER")]
    #[graphql(name = "LETTER")]
    Letter,
    /// A 4 × 6 in thermal label (labels).
    #[serde(rename = "LABEL_4X6")]
    #[graphql(name = "LABEL_4X6")]
    Label4x6,
    /// ISO A6, 105 × 148 mm (labels).
    #[serde(rename = "A6")]
    #[graphql(name = "A6")]
    A6,
}

impl PaperSize {
    /// Width and height in millimetres.
    pub fn size_mm(self) -> (f32, f32) {
        match self {
            PaperSize::A4 => (210.0, 297.0),
            PaperSize::Letter => (215.9, 279.4),
            PaperSize::Label4x6 => (101.6, 152.4),
            PaperSize::A6 => (105.0, 148.0),
        }
    }

    /// Whether invoices print on it.
    pub fn fits_invoices(self) -> bool {
        matches!(self, PaperSize::A4 | PaperSize::Letter)
    }

    /// Whether labels print on it.
    pub fn fits_labels(self) -> bool {
        matches!(self, PaperSize::Label4x6 | PaperSize::A6)
    }

    /// The name used in templates and the API.
    pub fn name(self) -> &'static str {
        match self {
            PaperSize::A4 => "A4",
            PaperSize::Letter => "LETTER",
            PaperSize::Label4x6 => "LABEL_4X6",
            PaperSize::A6 => "A6",
        }
    }
}

/// A colour, `#rrggbb` in the file, 0–1 components here.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Colour(pub f32, pub f32, pub f32);

impl<'de> Deserialize<'de> for Colour {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let hex = text
            .strip_prefix('#')
            .filter(|h| h.len() == 6 && h.chars().all(|c| c.is_ascii_hexdigit()))
            .ok_or_else(|| {
                D::Error::custom(format!("{text:?} is not a colour like \"#1f4e79\""))
            })?;
        let part = |i: usize| {
            u8::from_str_radix(&hex[i..i + 2], 16)
                .map(|v| f32::from(v) / 255.0)
                .map_err(|_| D::Error::custom(format!("{text:?} is not a colour")))
        };
        Ok(Colour(part(0)?, part(2)?, part(4)?))
    }
}

fn bounded<'de, D: Deserializer<'de>>(
    d: D,
    min: f64,
    max: f64,
    unit: &str,
) -> Result<f32, D::Error> {
    let v = f64::deserialize(d)?;
    if v.is_finite() && (min..=max).contains(&v) {
        // Bounded above, so the narrowing is exact enough for layout.
        #[allow(clippy::cast_possible_truncation)]
        Ok(v as f32)
    } else {
        Err(D::Error::custom(format!(
            "{v} is out of range: use {min} to {max} {unit}"
        )))
    }
}

/// A length in millimetres (0–300).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Length(pub f32);

impl<'de> Deserialize<'de> for Length {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        bounded(d, 0.0, 300.0, "mm").map(Length)
    }
}

/// A font size in points (4–72).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FontSize(pub f32);

impl<'de> Deserialize<'de> for FontSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        bounded(d, 4.0, 72.0, "pt").map(FontSize)
    }
}

/// Line spacing as a multiple of the font size (0.8–3).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spacing(pub f32);

impl<'de> Deserialize<'de> for Spacing {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        bounded(d, 0.8, 3.0, "times the font size").map(Spacing)
    }
}

/// Page size and margins.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageSpec {
    /// The default paper.
    pub size: Spanned<PaperSize>,
    /// Top margin.
    pub margin_top: Length,
    /// Bottom margin.
    pub margin_bottom: Length,
    /// Left margin.
    pub margin_left: Length,
    /// Right margin.
    pub margin_right: Length,
}

/// The two faces every document uses (paths relative to the template directory).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FontFiles {
    /// Body text.
    pub regular: Spanned<String>,
    /// Headings, names, totals.
    pub bold: Spanned<String>,
}

/// The box the logo is scaled into.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoBox {
    /// Widest the logo may be.
    pub max_width: Length,
    /// Tallest the logo may be.
    pub max_height: Length,
}

/// `templates/invoice.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceTemplate {
    /// Paper and margins.
    pub page: PageSpec,
    /// Font files.
    pub fonts: FontFiles,
    /// Font sizes.
    pub sizes: InvoiceSizes,
    /// Colours.
    pub colors: InvoiceColours,
    /// Logo box.
    pub logo: LogoBox,
    /// Invoice number format.
    pub numbering: Numbering,
    /// Which blocks appear.
    pub blocks: InvoiceBlocks,
    /// The wording.
    pub text: InvoiceText,
}

/// Font sizes of the invoice.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceSizes {
    pub title: FontSize,
    pub company: FontSize,
    pub heading: FontSize,
    pub text: FontSize,
    pub small: FontSize,
    pub line_spacing: Spacing,
}

/// Colours of the invoice.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceColours {
    pub text: Colour,
    pub muted: Colour,
    pub accent: Colour,
    pub rule: Colour,
    pub table_header: Colour,
}

/// How invoice numbers look.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Numbering {
    /// Printed before the sequence.
    pub prefix: Spanned<String>,
    /// The sequence is zero-padded to this many digits (1–12).
    pub digits: Spanned<u32>,
}

impl Numbering {
    /// The invoice number of the `sequence`-th invoice of a store.
    pub fn format(&self, sequence: i64) -> String {
        let digits = usize::try_from(*self.digits.get_ref()).unwrap_or(6);
        format!("{}{:0digits$}", self.prefix.get_ref(), sequence)
    }
}

/// Which blocks of the invoice appear.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceBlocks {
    pub logo: bool,
    pub company_address: bool,
    pub company_contact: bool,
    pub billing_address: bool,
    pub shipping_address: bool,
    pub sku_column: bool,
    pub ioss: bool,
    pub footer: bool,
    pub page_numbers: bool,
}

/// Every word of the invoice.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceText {
    pub title: String,
    pub invoice_number: String,
    pub invoice_date: String,
    pub order_number: String,
    pub order_date: String,
    pub bill_to: String,
    pub ship_to: String,
    pub phone: String,
    pub email: String,
    pub sku: String,
    pub item: String,
    pub quantity: String,
    pub unit_price: String,
    pub line_total: String,
    pub subtotal: String,
    pub shipping: String,
    /// Discounts and other charges (a row shown only when they are not zero). Templates
    /// written before it existed get the default.
    #[serde(default = "default_adjustments")]
    pub adjustments: String,
    pub tax: String,
    pub total: String,
    pub ioss: String,
    pub ioss_note: String,
    pub continued: String,
    pub page: Spanned<String>,
    pub footer: String,
    pub date_format: Spanned<String>,
}

fn default_adjustments() -> String {
    "Discounts and other charges".into()
}

/// `templates/label.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelTemplate {
    /// Paper and margins.
    pub page: PageSpec,
    /// Font files.
    pub fonts: FontFiles,
    /// Font sizes.
    pub sizes: LabelSizes,
    /// Colours.
    pub colors: LabelColours,
    /// Logo box.
    pub logo: LogoBox,
    /// The tracking barcode.
    pub barcode: BarcodeSpec,
    /// The customs block.
    pub customs: CustomsSpec,
    /// Which blocks appear.
    pub blocks: LabelBlocks,
    /// The wording.
    pub text: LabelText,
}

/// Font sizes of the label.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelSizes {
    pub heading: FontSize,
    pub text: FontSize,
    pub small: FontSize,
    pub recipient: FontSize,
    pub tracking: FontSize,
    pub line_spacing: Spacing,
}

/// Colours of the label.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelColours {
    pub text: Colour,
    pub muted: Colour,
    pub rule: Colour,
}

/// The Code128 barcode.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BarcodeSpec {
    /// Bar height.
    pub height: Length,
    /// Widest module (narrowest bar).
    pub max_module_width: Length,
    /// Blank space left and right.
    pub quiet_zone: Length,
}

/// The customs block.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomsSpec {
    /// Lines listed one by one (1–10).
    pub max_items: Spanned<u32>,
}

/// Which blocks of the label appear.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelBlocks {
    pub logo: bool,
    pub sender: bool,
    pub sender_phone: bool,
    pub recipient_phone: bool,
    pub recipient_email: bool,
    pub order_number: bool,
    pub carrier: bool,
    pub barcode: bool,
    pub weight: bool,
    pub customs: bool,
}

/// Every word of the label.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelText {
    pub from: String,
    pub to: String,
    pub phone: String,
    pub email: String,
    pub order: String,
    pub carrier: String,
    pub service: String,
    pub tracking: String,
    pub no_tracking: String,
    pub weight: String,
    pub weight_unit: String,
    pub customs: String,
    pub contents: String,
    pub quantity: String,
    pub value: String,
    pub total_value: String,
    pub ioss: String,
    pub more_items: Spanned<String>,
}

/// `templates/picklist.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PickListTemplate {
    /// Paper and margins.
    pub page: PageSpec,
    /// Font files.
    pub fonts: FontFiles,
    /// Font sizes.
    pub sizes: PickListSizes,
    /// Colours.
    pub colors: InvoiceColours,
    /// How the orders of a line are listed.
    pub orders: PickListOrders,
    /// Which blocks appear.
    pub blocks: PickListBlocks,
    /// The wording.
    pub text: PickListText,
}

/// Font sizes of the pick list.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PickListSizes {
    pub title: FontSize,
    pub heading: FontSize,
    pub text: FontSize,
    pub small: FontSize,
    pub quantity: FontSize,
    pub line_spacing: Spacing,
}

/// How the orders of a pick line are listed.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PickListOrders {
    /// Lines of order numbers before "+N more" (1–20).
    pub max_lines: Spanned<u32>,
}

/// Which blocks of the pick list appear.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PickListBlocks {
    pub checkbox: bool,
    pub thumbnails: bool,
    pub orders: bool,
    pub page_numbers: bool,
}

/// Every word of the pick list.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PickListText {
    pub title: String,
    pub printed: String,
    pub summary: Spanned<String>,
    pub bin: String,
    pub sku: String,
    pub item: String,
    pub quantity: String,
    pub orders: String,
    pub for_bundles: Spanned<String>,
    pub more_orders: Spanned<String>,
    pub nothing_to_pick: Spanned<String>,
    pub page: Spanned<String>,
    pub date_format: Spanned<String>,
}

/// `templates/packing_slip.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackingSlipTemplate {
    /// Paper and margins.
    pub page: PageSpec,
    /// Font files.
    pub fonts: FontFiles,
    /// Font sizes.
    pub sizes: PackingSlipSizes,
    /// Colours.
    pub colors: InvoiceColours,
    /// Logo box.
    pub logo: LogoBox,
    /// Which blocks appear.
    pub blocks: PackingSlipBlocks,
    /// The wording.
    pub text: PackingSlipText,
}

/// Font sizes of the packing slip.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackingSlipSizes {
    pub title: FontSize,
    pub company: FontSize,
    pub heading: FontSize,
    pub text: FontSize,
    pub small: FontSize,
    pub line_spacing: Spacing,
}

/// Which blocks of the packing slip appear.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackingSlipBlocks {
    pub logo: bool,
    pub sender_address: bool,
    pub sku_column: bool,
    pub prices: bool,
    pub message: bool,
    pub tracking: bool,
    pub page_numbers: bool,
}

/// Every word of the packing slip.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackingSlipText {
    pub title: String,
    pub order: String,
    pub orders: String,
    pub order_date: String,
    pub ship_to: String,
    pub sku: String,
    pub item: String,
    pub quantity: String,
    pub ordered: String,
    pub unit_price: String,
    pub line_total: String,
    pub message: String,
    pub carrier: String,
    pub tracking: String,
    pub partial: String,
    pub continued: String,
    pub page: Spanned<String>,
    pub date_format: Spanned<String>,
}
