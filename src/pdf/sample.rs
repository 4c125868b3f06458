//! Sample documents with names in many scripts: used by the tests and by `orderdeck bench pdf`.

use std::io::Cursor;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;

use super::model::{
    Customs, CustomsItem, Invoice, InvoiceLine, Label, Logo, PackingLine, PackingSlip, PickLine,
    PickList, PrintedAddress, Sender,
};

/// A `width` × `height` RGBA PNG like a typical logo: a coloured disc and bars on a transparent
/// background.
pub fn logo_png(width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (i64::from(width), i64::from(height));
    let img = ::image::RgbaImage::from_fn(width, height, |x, y| {
        let (x, y) = (i64::from(x), i64::from(y));
        let r = h / 2 - 4;
        let (dx, dy) = (x - h / 2, y - h / 2);
        if dx * dx + dy * dy <= r * r {
            return ::image::Rgba([31, 78, 121, 255]);
        }
        let bar = (y - h / 5) / (h / 5);
        let in_bar = (y - h / 5).rem_euclid(h / 5) < h / 8 && (0..3).contains(&bar);
        if in_bar && x > h + 8 && x < w - 8 - bar * w / 8 {
            return [
                ::image::Rgba([200, 60, 40, 255]),
                ::image::Rgba([40, 140, 90, 255]),
                ::image::Rgba([230, 170, 30, 255]),
            ][usize::try_from(bar).unwrap_or(0)];
        }
        ::image::Rgba([255, 255, 255, 0])
    });
    let mut out = Cursor::new(Vec::new());
    // Encoding an in-memory RGBA buffer as PNG cannot fail.
    let _ = img.write_to(&mut out, ::image::ImageFormat::Png);
    out.into_inner()
}

/// The sample logo, decoded.
pub fn logo() -> Option<Arc<Logo>> {
    Logo::decode("sample-logo".into(), &logo_png(300, 100))
        .ok()
        .map(Arc::new)
}

/// A store in London with an IOSS number.
pub fn sender(logo: Option<Arc<Logo>>) -> Sender {
    Sender {
        name: "Łódź Ceramics & Co.".into(),
        address: vec![
            "Returns dept.".into(),
            "12 Example Street".into(),
            "London EC1A 1BB".into(),
            "United Kingdom".into(),
        ],
        country_code: Some("GB".into()),
        phone: Some("+44 20 7946 0000".into()),
        email: Some("shop@example.com".into()),
        logo,
    }
}

/// Names in Polish, German, Greek and Cyrillic (what the fonts must show).
pub const NAMES: [&str; 4] = [
    "Łukasz Żółć",
    "Jürgen Großmann",
    "Αλέξανδρος Παπαδόπουλος",
    "Дмитрий Шостакович",
];

/// A decimal literal of the samples (they are all well-formed; 0 otherwise).
fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap_or_default()
}

fn address(name: &str, city: &str, country: &str, code: &str) -> PrintedAddress {
    PrintedAddress {
        name: name.into(),
        lines: vec!["ul. Piotrkowska 104".into(), city.into(), country.into()],
        country_code: code.into(),
    }
}

/// An invoice of `lines` lines to Germany, IOSS applying.
pub fn invoice(number: &str, lines: usize, logo: Option<Arc<Logo>>) -> Invoice {
    let items: Vec<InvoiceLine> = (0..lines)
        .map(|i| InvoiceLine {
            sku: format!("MUG-{:03}", i + 1),
            name: match i % 4 {
                0 => format!("Kubek „Żubr” {}", i + 1),
                1 => format!("Teetasse Größe M {}", i + 1),
                2 => format!("Κούπα καφέ {}", i + 1),
                _ if i == 23 => format!(
                    "Кружка керамическая с очень длинным названием, которое переносится на \
                     следующую строку {}",
                    i + 1
                ),
                _ => format!("Кружка «Матрёшка» {}", i + 1),
            },
            quantity: i64::try_from(i % 3 + 1).unwrap_or(1),
            unit_price: dec("12.50"),
            total: dec("12.50") * Decimal::from(i % 3 + 1),
        })
        .collect();
    let subtotal: Decimal = items.iter().map(|l| l.total).sum();
    let shipping = dec("9.90");
    let tax = (subtotal * dec("0.19")).round_dp(2);
    Invoice {
        sender: sender(logo),
        number: number.into(),
        issued_at: Utc
            .with_ymd_and_hms(2026, 11, 28, 10, 0, 0)
            .single()
            .unwrap_or_default(),
        order_number: "100234".into(),
        order_date: Utc
            .with_ymd_and_hms(2026, 11, 27, 18, 30, 0)
            .single()
            .unwrap_or_default(),
        billing: Some(address(NAMES[0], "90-001 Łódź", "Poland", "PL")),
        shipping: Some(address(NAMES[1], "10115 Berlin", "Germany", "DE")),
        lines: items,
        currency: "EUR".into(),
        currency_decimals: 2,
        subtotal,
        shipping_cost: shipping,
        tax,
        adjustments: Decimal::ZERO,
        total: subtotal + shipping + tax,
        ioss: Some("IM2760000001".into()),
    }
}

/// A label to Greece with customs (from the UK) and a tracking number.
pub fn label(tracking: Option<&str>, logo: Option<Arc<Logo>>) -> Label {
    Label {
        sender: sender(logo),
        recipient: address(NAMES[2], "546 21 Θεσσαλονίκη", "Greece", "GR"),
        recipient_phone: Some("+30 2310 000000".into()),
        recipient_email: Some("alexandros@example.gr".into()),
        order_number: "100234".into(),
        carrier: Some("Royal Mail".into()),
        service: Some("International Tracked".into()),
        tracking_number: tracking.map(str::to_string),
        weight: Some(dec("1.250")),
        customs: Some(Customs {
            items: vec![
                CustomsItem {
                    description: "Ceramic mug".into(),
                    quantity: 2,
                    value: dec("25.00"),
                },
                CustomsItem {
                    description: "Teapot".into(),
                    quantity: 1,
                    value: dec("40.00"),
                },
            ],
            total_value: dec("65.00"),
            currency: "GBP".into(),
            currency_decimals: 2,
            ioss: Some("IM2760000001".into()),
        }),
    }
}

/// A pick list for `orders` orders of 1–3 lines each over 60 products, a third of them without
/// a bin, one picked for a bundle: summed and sorted as the service does.
pub fn pick_list(orders: usize) -> PickList {
    let mut lines: Vec<PickLine> = (0..60)
        .map(|i| PickLine {
            bin: (i % 3 != 2)
                .then(|| format!("{}-{:02}-{}", ["A", "B", "C"][i % 3], i / 3 + 1, i % 4 + 1)),
            sku: format!("MUG-{:03}", i + 1),
            name: match i % 4 {
                0 => format!("Kubek „Żubr” {}", i + 1),
                1 => format!("Teetasse Größe M {}", i + 1),
                2 => format!("Κούπα καφέ {}", i + 1),
                _ => format!("Кружка «Матрёшка» {}", i + 1),
            },
            quantity: 0,
            orders: Vec::new(),
            bundles: if i == 4 {
                vec!["GIFT-SET".into()]
            } else {
                Vec::new()
            },
            picture: None,
        })
        .collect();
    for n in 0..orders {
        let number = format!("{}", 100_000 + n);
        for k in 0..=n % 3 {
            let units = i64::try_from((n + k) % 4 + 1).unwrap_or(1);
            let line = &mut lines[(n * 7 + k * 13) % 60];
            line.quantity += units;
            line.orders.push((number.clone(), units));
        }
    }
    lines.retain(|l| l.quantity > 0);
    lines.sort_by_key(|l| (l.bin.is_none(), l.bin.clone(), l.sku.clone()));
    PickList {
        printed_at: Utc
            .with_ymd_and_hms(2026, 11, 28, 8, 0, 0)
            .single()
            .unwrap_or_default(),
        order_count: orders,
        lines,
        nothing_to_pick: Vec::new(),
    }
}

/// A packing slip of a parcel of 4 lines to Germany with a gift message; `partial`: the parcel
/// holds part of the order.
pub fn packing_slip(partial: bool, logo: Option<Arc<Logo>>) -> PackingSlip {
    let lines = (0..4)
        .map(|i| PackingLine {
            sku: format!("MUG-{:03}", i + 1),
            name: match i {
                0 => "Kubek „Żubr”".into(),
                1 => "Teetasse Größe M".into(),
                2 => "Κούπα καφέ".into(),
                _ => "Кружка «Матрёшка»".into(),
            },
            quantity: i64::from(i % 2 + 1),
            ordered: i64::from(i % 2 + 1) + i64::from(partial && i == 1),
            unit_price: dec("12.50"),
        })
        .collect();
    PackingSlip {
        sender: sender(logo),
        order_numbers: vec!["100234".into()],
        order_date: Utc
            .with_ymd_and_hms(2026, 11, 27, 18, 30, 0)
            .single()
            .unwrap_or_default(),
        ship_to: Some(address(NAMES[1], "10115 Berlin", "Germany", "DE")),
        lines,
        message: Some("Alles Gute zum Geburtstag, Jürgen! — Łukasz".into()),
        carrier: Some("DHL".into()),
        tracking_number: Some("JJD000390007882".into()),
        partial,
        currency: "EUR".into(),
        currency_decimals: 2,
    }
}
