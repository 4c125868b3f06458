//! What a document shows, already decided (contact rule, customs, IOSS applied): plain text,
//! decimals and dates. The services build these from the database; the renderer only draws.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// The kinds of documents.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    async_graphql::Enum,
)]
pub enum DocumentKind {
    /// Invoices (A4 or Letter), one or more pages per order.
    #[serde(rename = "I")]
    Invoice,
    /// Shipping labels (4×6 in or A6), one page per order.
    #[serde(rename = "L")]
    Label,
    /// A pick list (A4 or Letter): one line per product the orders need, in walking order.
    #[serde(rename = "P")]
    PickList,
    /// Packing slips (any paper), one per order or per shipment.
    #[serde(rename = "S")]
    PackingSlip,
    /// A batch's parcels: each packing slip followed by its label, in pick-list order.
    #[serde(rename = "B")]
    Batch,
}

/// The store as it presents itself on documents.
#[derive(Clone, Debug, Default)]
pub struct Sender {
    /// The integration's alias: the company name.
    pub name: String,
    /// Return address lines (without the company name).
    pub address: Vec<String>,
    /// ISO country code of the return address, when one is set.
    pub country_code: Option<String>,
    /// The store's phone.
    pub phone: Option<String>,
    /// The store's email.
    pub email: Option<String>,
    /// The store's logo.
    pub logo: Option<Arc<Logo>>,
}

/// A logo ready for PDFs: an image XObject whose pixels are Flate-compressed once (colour and,
/// when not fully opaque, an alpha soft mask), shared by every page and every document that
/// shows it.
#[derive(Debug)]
pub struct Logo {
    /// Identifies the image (the stored logo's SHA-256).
    pub key: String,
    width: usize,
    height: usize,
    /// The image as printpdf embeds it.
    pub xobject: printpdf::ExternalXObject,
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, String> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).map_err(|e| e.to_string())?;
    encoder.finish().map_err(|e| e.to_string())
}

fn image_stream(
    width: usize,
    height: usize,
    colour_space: &str,
    pixels: &[u8],
    soft_mask: Option<printpdf::ExternalStream>,
) -> Result<printpdf::ExternalStream, String> {
    use printpdf::xobject::DictItem;
    let int = |v: usize| DictItem::Int(i64::try_from(v).unwrap_or(i64::MAX));
    let name = |v: &str| DictItem::Name(v.as_bytes().to_vec());
    let mut dict = std::collections::BTreeMap::from([
        ("Type".to_string(), name("XObject")),
        ("Subtype".to_string(), name("Image")),
        ("Width".to_string(), int(width)),
        ("Height".to_string(), int(height)),
        ("ColorSpace".to_string(), name(colour_space)),
        ("BitsPerComponent".to_string(), DictItem::Int(8)),
        ("Filter".to_string(), name("FlateDecode")),
    ]);
    if let Some(mask) = soft_mask {
        dict.insert("SMask".to_string(), DictItem::Stream { stream: mask });
    }
    Ok(printpdf::ExternalStream {
        dict,
        content: deflate(pixels)?,
        compress: false,
    })
}

impl Logo {
    /// Decodes a stored logo (PNG or JPEG) under tight limits and compresses it for PDFs
    /// (losslessly). CPU-bound: call off the async executor, once per stored logo.
    pub fn decode(key: String, bytes: &[u8]) -> Result<Self, String> {
        use ::image::{ImageReader, Limits};
        let mut reader = ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| e.to_string())?;
        let mut limits = Limits::default();
        limits.max_image_width = Some(4096);
        limits.max_image_height = Some(4096);
        limits.max_alloc = Some(64 * 1024 * 1024);
        reader.limits(limits);
        let rgba = reader.decode().map_err(|e| e.to_string())?.to_rgba8();
        let (w, h) = rgba.dimensions();
        let (width, height) = (
            usize::try_from(w).map_err(|e| e.to_string())?,
            usize::try_from(h).map_err(|e| e.to_string())?,
        );
        let mut rgb = Vec::with_capacity(width * height * 3);
        let mut alpha = Vec::with_capacity(width * height);
        for p in rgba.pixels() {
            rgb.extend_from_slice(&p.0[..3]);
            alpha.push(p.0[3]);
        }
        let mask = if alpha.iter().all(|a| *a == u8::MAX) {
            None
        } else {
            Some(image_stream(width, height, "DeviceGray", &alpha, None)?)
        };
        let stream = image_stream(width, height, "DeviceRGB", &rgb, mask)?;
        Ok(Self {
            key,
            width,
            height,
            xobject: printpdf::ExternalXObject {
                stream,
                width: Some(printpdf::Px(width)),
                height: Some(printpdf::Px(height)),
                dpi: None,
            },
        })
    }

    /// Width and height in pixels.
    pub fn pixels(&self) -> (usize, usize) {
        (self.width, self.height)
    }
}

/// A postal address as printed: a name line and the other lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrintedAddress {
    /// Person (or company when there is no person).
    pub name: String,
    /// Company, street, city, country lines.
    pub lines: Vec<String>,
    /// ISO 3166-1 alpha-2 country code (upper case), empty when unknown.
    pub country_code: String,
}

/// One invoice line.
#[derive(Clone, Debug)]
pub struct InvoiceLine {
    /// SKU, empty when the line has none.
    pub sku: String,
    /// Product name.
    pub name: String,
    /// Quantity.
    pub quantity: i64,
    /// Unit price.
    pub unit_price: Decimal,
    /// Line total.
    pub total: Decimal,
}

/// An invoice for one order.
#[derive(Clone, Debug)]
pub struct Invoice {
    /// The seller.
    pub sender: Sender,
    /// The invoice number (assigned once per order).
    pub number: String,
    /// When the invoice was issued (its number assigned).
    pub issued_at: DateTime<Utc>,
    /// The order number.
    pub order_number: String,
    /// When the order was placed.
    pub order_date: DateTime<Utc>,
    /// Billing address.
    pub billing: Option<PrintedAddress>,
    /// Shipping address.
    pub shipping: Option<PrintedAddress>,
    /// Lines, in order.
    pub lines: Vec<InvoiceLine>,
    /// ISO 4217 code.
    pub currency: String,
    /// Decimals of the currency.
    pub currency_decimals: u32,
    /// Sum of the lines.
    pub subtotal: Decimal,
    /// Shipping cost without tax (its tax is in `tax`).
    pub shipping_cost: Decimal,
    /// Tax, of the lines and of shipping.
    pub tax: Decimal,
    /// Discounts and other charges: what takes subtotal + shipping + tax to the total (zero
    /// when they add up; printed only then).
    pub adjustments: Decimal,
    /// Grand total.
    pub total: Decimal,
    /// The store's IOSS number, when it applies to this order (EU destination).
    pub ioss: Option<String>,
}

/// One line of a customs declaration.
#[derive(Clone, Debug)]
pub struct CustomsItem {
    /// What it is.
    pub description: String,
    /// How many.
    pub quantity: i64,
    /// Their value.
    pub value: Decimal,
}

/// The customs block of an international label.
#[derive(Clone, Debug)]
pub struct Customs {
    /// Contents.
    pub items: Vec<CustomsItem>,
    /// Total value.
    pub total_value: Decimal,
    /// ISO 4217 code.
    pub currency: String,
    /// Decimals of the currency.
    pub currency_decimals: u32,
    /// The IOSS number, for EU destinations.
    pub ioss: Option<String>,
}

/// A shipping label for one order or one shipment.
#[derive(Clone, Debug)]
pub struct Label {
    /// The sender (alias, return address, phone).
    pub sender: Sender,
    /// The recipient.
    pub recipient: PrintedAddress,
    /// Recipient phone after the store's PREFILL/OVERWRITE rule.
    pub recipient_phone: Option<String>,
    /// Recipient email after the store's PREFILL/OVERWRITE rule.
    pub recipient_email: Option<String>,
    /// The order number.
    pub order_number: String,
    /// Carrier name.
    pub carrier: Option<String>,
    /// Carrier service.
    pub service: Option<String>,
    /// Tracking number (text and Code128).
    pub tracking_number: Option<String>,
    /// Total weight, in the store's weight unit.
    pub weight: Option<Decimal>,
    /// Customs declaration, when the parcel leaves the sender's customs territory.
    pub customs: Option<Customs>,
}

/// Formats `amount` with the currency's decimals.
pub fn money(amount: Decimal, decimals: u32) -> String {
    let mut rounded = amount.round_dp(decimals);
    rounded.rescale(decimals);
    rounded.to_string()
}

/// Formats `amount` with its currency code.
pub fn money_with_code(amount: Decimal, decimals: u32, currency: &str) -> String {
    format!("{} {currency}", money(amount, decimals))
}

/// One product to pick: everything the named orders still need of it.
#[derive(Clone, Debug)]
pub struct PickLine {
    /// Where it lies; `None` sorts last.
    pub bin: Option<String>,
    /// SKU, empty when the order lines have none.
    pub sku: String,
    /// Product name.
    pub name: String,
    /// Units to pick.
    pub quantity: i64,
    /// The orders it goes to, with the units each needs, in pick-list order.
    pub orders: Vec<(String, i64)>,
    /// SKUs of the bundles it is picked for (empty when sold on its own only).
    pub bundles: Vec<String>,
    /// The product's picture, small, when it has one.
    pub picture: Option<Arc<Logo>>,
}

/// A pick list for a set of orders.
#[derive(Clone, Debug)]
pub struct PickList {
    /// When it was made.
    pub printed_at: DateTime<Utc>,
    /// How many orders were named.
    pub order_count: usize,
    /// One line per product, in walking order.
    pub lines: Vec<PickLine>,
    /// Numbers of named orders with nothing left to pick (shipped or canceled).
    pub nothing_to_pick: Vec<String>,
}

/// One line of a packing slip: what the parcel holds of one order line.
#[derive(Clone, Debug)]
pub struct PackingLine {
    /// SKU, empty when the line has none.
    pub sku: String,
    /// Product name.
    pub name: String,
    /// Units in this parcel.
    pub quantity: i64,
    /// Units the order line asked for.
    pub ordered: i64,
    /// Unit price (shown when the template asks for prices).
    pub unit_price: Decimal,
}

/// A packing slip: one parcel of one order, or of merged orders.
#[derive(Clone, Debug)]
pub struct PackingSlip {
    /// The store (logo, alias, return address).
    pub sender: Sender,
    /// The order numbers the parcel serves.
    pub order_numbers: Vec<String>,
    /// When the (first) order was placed.
    pub order_date: DateTime<Utc>,
    /// Where it goes.
    pub ship_to: Option<PrintedAddress>,
    /// What is in the parcel.
    pub lines: Vec<PackingLine>,
    /// The customer's message (a gift message), when there is one.
    pub message: Option<String>,
    /// Carrier, when known.
    pub carrier: Option<String>,
    /// Tracking number, when known.
    pub tracking_number: Option<String>,
    /// The parcel holds only part of what was ordered.
    pub partial: bool,
    /// ISO 4217 code.
    pub currency: String,
    /// Decimals of the currency.
    pub currency_decimals: u32,
}
