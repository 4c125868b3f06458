//! Deterministic seeded stores: the same seed gives the same stores, products and orders
//! (dates count back from the sandbox's anchor time).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;

use crate::config::SandboxConfig;
use crate::model::*;

const FIRST: &[&str] = &[
    "Anna",
    "Jürgen",
    "Łucja",
    "Zoë",
    "Ιωάννης",
    "Дмитрий",
    "José",
    "Émile",
    "Mia",
    "Oliver",
    "Søren",
    "Małgorzata",
];
const LAST: &[&str] = &[
    "Kowalski",
    "Müller",
    "Żółć",
    "Παπαδόπουλος",
    "Иванов",
    "García",
    "Smith",
    "Dubois",
    "Nowak",
    "O'Brien",
    "Åberg",
    "Brown",
];
const PLACES: &[(&str, &str, &str, &str)] = &[
    ("Łódź", "Łódzkie", "90-001", "PL"),
    ("Berlin", "Berlin", "10115", "DE"),
    ("Austin", "Texas", "78751", "US"),
    ("Αθήνα", "Attica", "105 57", "GR"),
    ("Paris", "Île-de-France", "75001", "FR"),
    ("London", "", "SW1A 1AA", "GB"),
    ("Wien", "Wien", "1010", "AT"),
    ("Москва", "", "101000", "RU"),
];
const COUNTRY: &[(&str, &str)] = &[
    ("PL", "Poland"),
    ("DE", "Germany"),
    ("US", "United States"),
    ("GR", "Greece"),
    ("FR", "France"),
    ("GB", "United Kingdom"),
    ("AT", "Austria"),
    ("RU", "Russian Federation"),
];
const ADJECTIVES: &[&str] = &[
    "Classic", "Organic", "Vintage", "Sport", "Deluxe", "Eco", "Mini", "Pro",
];
const NOUNS: &[&str] = &[
    "Mug", "T-Shirt", "Backpack", "Lamp", "Notebook", "Sneakers", "Scarf", "Bottle", "Candle",
    "Chair",
];
const SIZES: &[&str] = &["S", "M", "L", "XL"];
/// Colours of option products when the sandbox seeds a second option (`colours` > 0).
const COLOURS: &[&str] = &["Black", "White", "Red", "Blue", "Green", "Grey"];
const CATEGORIES: &[&str] = &[
    "Kitchen", "Apparel", "Outdoor", "Home", "Office", "Shoes", "Gifts", "Sale",
];
const CURRENCIES: &[&str] = &["USD", "EUR", "GBP", "PLN"];
/// Status ids with their share of seeded orders (all 15 appear).
const STATUS_MIX: &[(i64, u32)] = &[
    (0, 2),
    (1, 6),
    (2, 18),
    (3, 4),
    (4, 3),
    (5, 5),
    (6, 2),
    (7, 6),
    (8, 2),
    (9, 8),
    (10, 20),
    (11, 18),
    (12, 2),
    (13, 1),
    (14, 3),
];

fn money(rng: &mut StdRng, min_cents: i64, max_cents: i64) -> Decimal {
    Decimal::new(rng.gen_range(min_cents..=max_cents), 2)
}

fn token(rng: &mut StdRng, len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// An API account with the given scopes.
pub fn account(client_id: String, access_token: String, scopes: &[&str]) -> ApiAccount {
    ApiAccount {
        client_id,
        access_token,
        scopes: scopes
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>(),
    }
}

/// An empty store with three API accounts: full access, read-only, and information-only.
pub fn empty_store(rng: &mut StdRng, index: usize, quota: u32) -> Store {
    let hash = token(rng, 10);
    let full = account(
        format!("client-{}", token(rng, 12)),
        token(rng, 31),
        scopes::ALL,
    );
    let read_only: Vec<String> = scopes::ALL
        .iter()
        .map(|s| format!("{s}_read_only"))
        .collect();
    let read_only: Vec<&str> = read_only.iter().map(String::as_str).collect();
    let read = account(
        format!("client-{}", token(rng, 12)),
        token(rng, 31),
        &read_only,
    );
    let info = account(
        format!("client-{}", token(rng, 12)),
        token(rng, 31),
        &["store_v2_information_read_only"],
    );
    Store {
        store_id: 1_000_000 + index as i64,
        name: format!("Sandbox Store {}", index + 1),
        currency: CURRENCIES[index % CURRENCIES.len()].to_string(),
        hash,
        accounts: vec![full, read, info],
        quota,
        bucket: RateBucket {
            window_start: Instant::now(),
            used: 0,
        },
        faults: Faults::default(),
        categories: Vec::new(),
        products: BTreeMap::new(),
        orders: BTreeMap::new(),
        hooks: BTreeMap::new(),
        counters: BTreeMap::new(),
        next_id: 99,
    }
}

/// Seeds every store of a sandbox.
pub fn seed(config: &SandboxConfig, anchor: DateTime<Utc>) -> BTreeMap<String, Store> {
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut stores = BTreeMap::new();
    for index in 0..config.stores {
        let mut store = empty_store(&mut rng, index, config.quota);
        seed_catalog(
            &mut rng,
            &mut store,
            config.products,
            config.colours,
            config.shared_catalogue,
            anchor,
        );
        seed_orders(
            &mut rng,
            &mut store,
            config.orders,
            config.order_days,
            anchor,
        );
        stores.insert(store.hash.clone(), store);
    }
    stores
}

/// Adds categories and `count` products (60% simple, 30% with variants, 10% untracked).
/// Products with variants have 2–4 sizes; with `colours` > 0 they also have a Colour option
/// with that many values (at most 6), one variant per size and colour.
pub fn seed_catalog(
    rng: &mut StdRng,
    store: &mut Store,
    count: usize,
    colours: usize,
    shared: bool,
    anchor: DateTime<Utc>,
) {
    if store.categories.is_empty() {
        seed_categories(store);
    }
    let category_ids: Vec<i64> = store.categories.iter().map(|c| c.id).collect();
    let start = store.products.len();
    for n in start..start + count {
        let kind = n % 10;
        let tracking = match kind {
            0..=5 => Tracking::Product,
            6..=8 => Tracking::Variant,
            _ => Tracking::None,
        };
        let with_options = (6..=8).contains(&kind);
        let price = money(rng, 500, 20_000);
        let sale_price = if rng.gen_bool(0.3) {
            (price * Decimal::new(8, 1)).round_dp(2)
        } else {
            Decimal::ZERO
        };
        let id = store.new_id();
        // A shared catalogue lists four products in five under the same SKU and name on every
        // store (as a merchant's shops in two countries do); the fifth is this store's own.
        let in_every_store = shared && n % 5 != 4;
        let sku = if in_every_store {
            format!("SKU-{n:05}")
        } else {
            format!("SKU-{}-{n:05}", &store.hash[..4].to_uppercase())
        };
        let created = anchor - Duration::seconds(rng.gen_range(86_400..400 * 86_400));
        let modified =
            created + Duration::seconds(rng.gen_range(0..(anchor - created).num_seconds().max(1)));
        let mut name = format!(
            "{} {} {}",
            ADJECTIVES[rng.gen_range(0..ADJECTIVES.len())],
            NOUNS[rng.gen_range(0..NOUNS.len())],
            n + 1
        );
        if in_every_store {
            name = format!(
                "{} {} {}",
                ADJECTIVES[n % ADJECTIVES.len()],
                NOUNS[(n / ADJECTIVES.len()) % NOUNS.len()],
                n + 1
            );
        }
        let mut product = Product {
            id,
            name,
            sku: sku.clone(),
            price,
            sale_price,
            cost_price: (price * Decimal::new(5, 1)).round_dp(2),
            retail_price: (price * Decimal::new(12, 1)).round_dp(2),
            weight: Decimal::new(rng.gen_range(10..5_000), 3),
            categories: vec![category_ids[rng.gen_range(0..category_ids.len())]],
            inventory_tracking: tracking,
            inventory_level: if tracking == Tracking::Product {
                rng.gen_range(0..200)
            } else {
                0
            },
            inventory_warning_level: 5,
            is_visible: rng.gen_bool(0.9),
            total_sold: rng.gen_range(0..500),
            images: Vec::new(),
            variants: Vec::new(),
            date_created: created,
            date_modified: modified,
        };
        add_images(rng, store, &mut product);
        if with_options && colours > 0 {
            add_size_colour_variants(rng, store, &mut product, colours);
        } else if with_options {
            add_size_variants(rng, store, &mut product, &sku, price);
        } else {
            add_base_variant(store, &mut product, &sku);
        }
        store.products.insert(id, product);
    }
}

/// Gives an empty store the fixed category tree: each top category with one "Extras" child.
fn seed_categories(store: &mut Store) {
    for (i, name) in CATEGORIES.iter().enumerate() {
        let id = store.new_id();
        store.categories.push(Category {
            id,
            parent_id: 0,
            name: name.to_string(),
            sort_order: i as i64,
            is_visible: true,
        });
        let child = store.new_id();
        store.categories.push(Category {
            id: child,
            parent_id: id,
            name: format!("{name} Extras"),
            sort_order: 0,
            is_visible: true,
        });
    }
}

/// Adds 1–3 images to a product, the first one its thumbnail.
fn add_images(rng: &mut StdRng, store: &mut Store, product: &mut Product) {
    let id = product.id;
    for i in 0..rng.gen_range(1..=3) {
        let image_id = store.new_id();
        product.images.push(Image {
            id: image_id,
            is_thumbnail: i == 0,
            sort_order: i,
            url: format!(
                "https://cdn.sandbox.test/{}/products/{id}/images/{image_id}.jpg",
                store.hash
            ),
        });
    }
}

/// One variant per size (2–4) of a Size option; XL costs 2.00 more.
fn add_size_variants(
    rng: &mut StdRng,
    store: &mut Store,
    product: &mut Product,
    sku: &str,
    price: Decimal,
) {
    let id = product.id;
    let option_id = store.new_id();
    for size in SIZES.iter().take(rng.gen_range(2..=4)) {
        let vid = store.new_id();
        let value_id = store.new_id();
        product.variants.push(Variant {
            id: vid,
            product_id: id,
            sku: format!("{sku}-{size}"),
            price: if *size == "XL" {
                Some(price + Decimal::new(200, 2))
            } else {
                None
            },
            sale_price: None,
            weight: None,
            inventory_level: rng.gen_range(0..100),
            option_values: vec![OptionValue {
                id: value_id,
                option_id,
                label: size.to_string(),
                option_display_name: "Size".into(),
            }],
        });
    }
}

/// The single base variant of a product without options, with the product's SKU.
fn add_base_variant(store: &mut Store, product: &mut Product, sku: &str) {
    let id = product.id;
    let vid = store.new_id();
    product.variants.push(Variant {
        id: vid,
        product_id: id,
        sku: sku.to_string(),
        price: None,
        sale_price: None,
        weight: None,
        inventory_level: 0,
        option_values: Vec::new(),
    });
}

/// One variant per size (2–4) and colour (`colours`, at most 6) of an option product; option
/// values are shared by the variants that carry them, as on BigCommerce.
fn add_size_colour_variants(
    rng: &mut StdRng,
    store: &mut Store,
    product: &mut Product,
    colours: usize,
) {
    let size_option = store.new_id();
    let colour_option = store.new_id();
    let sizes: Vec<(i64, &str)> = SIZES
        .iter()
        .take(rng.gen_range(2..=4))
        .map(|s| (store.new_id(), *s))
        .collect();
    let colours: Vec<(i64, &str)> = COLOURS
        .iter()
        .take(colours.min(COLOURS.len()))
        .map(|c| (store.new_id(), *c))
        .collect();
    for (size_value, size) in &sizes {
        for (colour_value, colour) in &colours {
            let vid = store.new_id();
            let code: String = colour.chars().take(3).collect::<String>().to_uppercase();
            product.variants.push(Variant {
                id: vid,
                product_id: product.id,
                sku: format!("{}-{size}-{code}", product.sku),
                price: if *size == "XL" {
                    Some(product.price + Decimal::new(200, 2))
                } else {
                    None
                },
                sale_price: None,
                weight: None,
                inventory_level: rng.gen_range(0..100),
                option_values: vec![
                    OptionValue {
                        id: *size_value,
                        option_id: size_option,
                        label: size.to_string(),
                        option_display_name: "Size".into(),
                    },
                    OptionValue {
                        id: *colour_value,
                        option_id: colour_option,
                        label: colour.to_string(),
                        option_display_name: "Colour".into(),
                    },
                ],
            });
        }
    }
}

/// A random person's address.
pub fn address(rng: &mut StdRng) -> Address {
    let first = FIRST[rng.gen_range(0..FIRST.len())];
    let last = LAST[rng.gen_range(0..LAST.len())];
    let (city, state, zip, iso) = PLACES[rng.gen_range(0..PLACES.len())];
    let country = COUNTRY
        .iter()
        .find(|(c, _)| *c == iso)
        .map(|(_, n)| *n)
        .unwrap_or("");
    Address {
        first_name: first.into(),
        last_name: last.into(),
        company: if rng.gen_bool(0.2) {
            "Example Trading Ltd".into()
        } else {
            String::new()
        },
        street_1: format!("{} Market Street", rng.gen_range(1..200)),
        street_2: String::new(),
        city: city.into(),
        state: state.into(),
        zip: zip.into(),
        country: country.into(),
        country_iso2: iso.into(),
        phone: if rng.gen_bool(0.7) {
            format!("+1 555 {:04}", rng.gen_range(0..10_000))
        } else {
            String::new()
        },
        email: format!(
            "{}.{}@example.com",
            rng.gen_range(1000..9999),
            token(rng, 5)
        ),
    }
}

fn pick_status(rng: &mut StdRng) -> i64 {
    let total: u32 = STATUS_MIX.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total);
    for (status, weight) in STATUS_MIX {
        if roll < *weight {
            return *status;
        }
        roll -= weight;
    }
    11
}

/// Something an order line can sell: a product without options, or one option variant.
#[derive(Clone, Debug)]
pub struct Sellable {
    pub product_id: i64,
    pub variant_id: i64,
    pub name: String,
    pub sku: String,
    pub price: Decimal,
    pub weight: Decimal,
}

/// Everything in the store's catalog that can be ordered.
pub fn sellables(store: &Store) -> Vec<Sellable> {
    store
        .products
        .values()
        .flat_map(|p| {
            p.variants
                .iter()
                .filter(|v| !p.has_options() || !v.is_base())
                .map(move |v| {
                    let size = if v.option_values.is_empty() {
                        String::new()
                    } else {
                        let labels: Vec<&str> =
                            v.option_values.iter().map(|o| o.label.as_str()).collect();
                        format!(" ({})", labels.join(", "))
                    };
                    Sellable {
                        product_id: p.id,
                        variant_id: v.id,
                        name: format!("{}{size}", p.name),
                        sku: v.sku.clone(),
                        price: v.price.unwrap_or(if p.sale_price > Decimal::ZERO {
                            p.sale_price
                        } else {
                            p.price
                        }),
                        weight: v.weight.unwrap_or(p.weight),
                    }
                })
        })
        .collect()
}

/// A new order of `line_count` random lines from `sellable` (no shipments). `None` when there
/// is nothing to sell.
pub fn random_order(
    rng: &mut StdRng,
    store: &mut Store,
    sellable: &[Sellable],
    created: DateTime<Utc>,
    status_id: i64,
    line_count: usize,
) -> Option<Order> {
    if sellable.is_empty() {
        return None;
    }
    let id = store.new_id();
    let billing = address(rng);
    let mut shipping_addresses = Vec::new();
    let consignments = if line_count > 1 && rng.gen_bool(0.1) {
        2
    } else {
        1
    };
    for i in 0..consignments {
        let address_id = store.new_id();
        shipping_addresses.push(ShippingAddress {
            id: address_id,
            address: if i == 0 {
                billing.clone()
            } else {
                address(rng)
            },
            shipping_method: "Flat Rate".into(),
            cost_ex_tax: Decimal::new(500, 2),
            cost_inc_tax: Decimal::new(500, 2),
        });
    }
    let tax_rate = Decimal::new(rng.gen_range(0..=23), 2);
    let mut products = Vec::new();
    for n in 0..line_count {
        let Sellable {
            product_id,
            variant_id,
            name,
            sku,
            price,
            weight,
        } = sellable[rng.gen_range(0..sellable.len())].clone();
        let line_id = store.new_id();
        let tax = (price * tax_rate).round_dp(4);
        products.push(OrderProduct {
            id: line_id,
            product_id,
            variant_id,
            order_address_id: shipping_addresses[n % shipping_addresses.len()].id,
            name,
            sku,
            base_price: price,
            price_ex_tax: price,
            price_inc_tax: price + tax,
            price_tax: tax,
            quantity: rng.gen_range(1..=3),
            quantity_shipped: 0,
            weight,
        });
    }
    let shipping = Decimal::new(500, 2) * Decimal::from(consignments as i64);
    Some(Order {
        id,
        customer_id: if rng.gen_bool(0.3) {
            0
        } else {
            rng.gen_range(1..5000)
        },
        date_created: created,
        date_modified: created,
        date_shipped: None,
        status_id,
        currency_code: store.currency.clone(),
        payment_method: "Credit Card".into(),
        payment_status: if status_id == 7 || status_id == 1 {
            "pending".into()
        } else {
            "captured".into()
        },
        billing_address: billing,
        shipping_addresses,
        products,
        shipments: Vec::new(),
        shipping_cost_ex_tax: shipping,
        shipping_cost_inc_tax: shipping,
        tax_rate,
        customer_message: String::new(),
        staff_notes: String::new(),
        is_deleted: false,
    })
}

/// Ships, in one shipment per address, the quantity `pick(line index, line)` of each line.
pub fn ship_lines(
    store: &mut Store,
    order: &mut Order,
    pick: impl Fn(usize, &OrderProduct) -> i64,
    at: DateTime<Utc>,
) {
    let addresses: Vec<i64> = order.shipping_addresses.iter().map(|a| a.id).collect();
    for address_id in addresses {
        let mut items = Vec::new();
        for (index, line) in order.products.iter_mut().enumerate() {
            if line.order_address_id != address_id {
                continue;
            }
            let qty = pick(index, line).clamp(0, line.quantity - line.quantity_shipped);
            if qty > 0 {
                line.quantity_shipped += qty;
                items.push((line.id, qty));
            }
        }
        if items.is_empty() {
            continue;
        }
        let id = store.new_id();
        order.shipments.push(Shipment {
            id,
            order_address_id: address_id,
            date_created: at,
            tracking_number: format!("1Z{id:010}"),
            shipping_method: "Flat Rate".into(),
            shipping_provider: "ups".into(),
            tracking_carrier: String::new(),
            tracking_link: String::new(),
            comments: String::new(),
            items,
        });
    }
    if order.items_shipped() >= order.items_total() {
        order.date_shipped = Some(at);
    }
}

/// Adds `count` orders spread over `days` before `anchor`, in every status.
pub fn seed_orders(
    rng: &mut StdRng,
    store: &mut Store,
    count: usize,
    days: i64,
    anchor: DateTime<Utc>,
) {
    let mut created: Vec<DateTime<Utc>> = (0..count)
        .map(|_| anchor - Duration::seconds(rng.gen_range(60..days.max(1) * 86_400)))
        .collect();
    created.sort();
    let sellable = sellables(store);
    for at in created {
        let status = pick_status(rng);
        let lines = if rng.gen_bool(0.01) {
            rng.gen_range(51..=60)
        } else {
            rng.gen_range(1..=4)
        };
        // Partially shipped orders need a line that stays unshipped.
        let lines = if matches!(status, 3 | 14) {
            lines.max(2)
        } else {
            lines
        };
        let Some(mut order) = random_order(rng, store, &sellable, at, status, lines) else {
            return;
        };
        let modified = at + Duration::seconds(rng.gen_range(0..3 * 86_400));
        order.date_modified = modified.min(anchor);
        let at = order.date_modified;
        match status {
            2 | 10 => ship_lines(store, &mut order, |_, l| l.quantity, at),
            3 | 14 => ship_lines(
                store,
                &mut order,
                |i, l| if i % 2 == 0 { l.quantity } else { 0 },
                at,
            ),
            _ => {}
        }
        store.orders.insert(order.id, order);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn catalog(colours: usize) -> Store {
        let mut rng = StdRng::seed_from_u64(1);
        let mut store = empty_store(&mut rng, 0, 150);
        seed_catalog(&mut rng, &mut store, 2_000, colours, false, Utc::now());
        store
    }

    fn variants(store: &Store) -> usize {
        store.products.values().map(|p| p.variants.len()).sum()
    }

    #[test]
    fn two_colours_give_about_5000_variants_for_2000_products() {
        assert_eq!(variants(&catalog(0)), 3_207);
        let store = catalog(2);
        assert!(
            (4_800..=5_200).contains(&variants(&store)),
            "{}",
            variants(&store)
        );
        let with_options = store.products.values().find(|p| p.has_options()).unwrap();
        let sizes: BTreeSet<i64> = with_options
            .variants
            .iter()
            .map(|v| v.option_values[0].id)
            .collect();
        assert_eq!(with_options.variants.len(), sizes.len() * 2);
        for v in &with_options.variants {
            let labels: Vec<&str> = v
                .option_values
                .iter()
                .map(|o| o.option_display_name.as_str())
                .collect();
            assert_eq!(labels, ["Size", "Colour"]);
            assert!(v.sku.starts_with(&with_options.sku));
        }
        let skus: BTreeSet<&str> = store
            .products
            .values()
            .flat_map(|p| p.variants.iter().map(|v| v.sku.as_str()))
            .collect();
        assert_eq!(skus.len(), variants(&store), "SKUs are unique");
    }

    #[test]
    fn a_shared_catalogue_lists_four_products_in_five_on_every_store_under_one_sku_and_name() {
        let config = SandboxConfig {
            stores: 2,
            products: 50,
            orders: 0,
            shared_catalogue: true,
            ..SandboxConfig::default()
        };
        let stores: Vec<Store> = seed(&config, Utc::now()).into_values().collect();
        let named = |store: &Store| -> BTreeMap<String, String> {
            store
                .products
                .values()
                .map(|p| (p.sku.clone(), p.name.clone()))
                .collect()
        };
        let (a, b) = (named(&stores[0]), named(&stores[1]));
        let shared: Vec<&String> = a.keys().filter(|sku| b.contains_key(*sku)).collect();
        assert_eq!(shared.len(), 40, "{shared:?}");
        for sku in shared {
            assert_eq!(a[sku], b[sku], "{sku}");
        }
        let unshared = seed(
            &SandboxConfig {
                shared_catalogue: false,
                ..config
            },
            Utc::now(),
        );
        let stores: Vec<&Store> = unshared.values().collect();
        let (a, b) = (named(stores[0]), named(stores[1]));
        assert!(a.keys().all(|sku| !b.contains_key(sku)));
    }
}
