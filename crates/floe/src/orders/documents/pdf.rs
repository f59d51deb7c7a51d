//! Drawing a [`Sheet`] (what an invoice or receipt says) as an A4 PDF with krilla: laid out
//! first into pages of positioned text and rules (pure, testable), then drawn.
//!
//! The fonts are embedded in the binary and subsetted into each document, with ToUnicode
//! maps so that the text can be searched and copied. DejaVu Sans covers Latin, Greek,
//! Cyrillic and more; each character it lacks (CJK) is drawn with Droid Sans Fallback.
//! See docs/decisions/0016-order-documents.md and fonts/LICENSE.md.

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use skrifa::MetadataProvider;
use skrifa::instance::{LocationRef, Size};

static REGULAR: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("fonts/DejaVuSans-Bold.ttf");
static FALLBACK: &[u8] = include_bytes!("fonts/DroidSansFallbackFull.ttf");

/// What a document says, already in words: the caller formats dates and amounts.
#[derive(Clone, Debug, Default)]
pub struct Sheet {
    /// `Invoice` or `Receipt`: the document's title.
    pub title: String,
    /// Label and value pairs under the title (number, dates, status).
    pub facts: Vec<(String, String)>,
    /// The seller's lines (name first).
    pub seller: Vec<String>,
    /// The buyer's billing name and address lines.
    pub buyer: Vec<String>,
    /// One row per order item: label and amount.
    pub items: Vec<(String, String)>,
    /// Subtotal, discount, tax, total…: label, amount and whether it stands out.
    pub totals: Vec<(String, String, bool)>,
}

const WIDTH: f32 = 595.28;
const HEIGHT: f32 = 841.89;
const MARGIN: f32 = 56.0;
const RIGHT: f32 = WIDTH - MARGIN;
const GRAY: (u8, u8, u8) = (100, 100, 100);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Style {
    weight: Weight,
    size: f32,
    gray: bool,
}

const BODY: Style = Style {
    weight: Weight::Regular,
    size: 10.0,
    gray: false,
};
const LABEL: Style = Style {
    weight: Weight::Regular,
    size: 9.0,
    gray: true,
};
const STRONG: Style = Style {
    weight: Weight::Bold,
    size: 10.0,
    gray: false,
};
const TITLE: Style = Style {
    weight: Weight::Bold,
    size: 22.0,
    gray: false,
};

/// One thing drawn on a page; `y` is the text's baseline, from the top.
#[derive(Clone, Debug, PartialEq)]
pub enum Mark {
    Text {
        x: f32,
        y: f32,
        text: String,
        style: Style,
    },
    Rule {
        y: f32,
    },
}

/// Which of the embedded fonts draws a piece of text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Face {
    Regular,
    Bold,
    Fallback,
}

impl Face {
    fn bytes(self) -> &'static [u8] {
        match self {
            Self::Regular => REGULAR,
            Self::Bold => BOLD,
            Self::Fallback => FALLBACK,
        }
    }

    /// The font's tables (`None` cannot happen with the files shipped: the tests parse them).
    fn font(self) -> Option<skrifa::FontRef<'static>> {
        skrifa::FontRef::new(self.bytes()).ok()
    }

    fn covers(self, c: char) -> bool {
        self.font()
            .is_some_and(|font| font.charmap().map(c).is_some())
    }
}

/// The text split into pieces that one font draws: the style's own font, and the fallback
/// for what it lacks. A character both have stays with the piece it is in, so "東京都 1-1"
/// is one piece and "Zoë 東京" two.
fn pieces(text: &str, weight: Weight) -> Vec<(Face, String)> {
    let primary = match weight {
        Weight::Regular => Face::Regular,
        Weight::Bold => Face::Bold,
    };
    let mut out: Vec<(Face, String)> = Vec::new();
    for c in text.chars() {
        let current = out.last().map(|(face, _)| *face);
        let face = match current {
            Some(face) if face.covers(c) => face,
            _ if primary.covers(c) => primary,
            _ if Face::Fallback.covers(c) => Face::Fallback,
            // Nothing has it: drawn as the primary font's missing glyph, text kept.
            _ => current.unwrap_or(primary),
        };
        match out.last_mut() {
            Some((last, piece)) if *last == face => piece.push(c),
            _ => out.push((face, c.to_string())),
        }
    }
    out
}

/// The advance of `text` in `face` at `size` points (without kerning: close enough to
/// align and wrap).
fn advance(face: Face, text: &str, size: f32) -> f32 {
    let Some(font) = face.font() else {
        return text.chars().count() as f32 * size * 0.5;
    };
    let charmap = font.charmap();
    let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
    text.chars()
        .map(|c| {
            charmap
                .map(c)
                .and_then(|glyph| metrics.advance_width(glyph))
                .unwrap_or(size * 0.5)
        })
        .sum()
}

pub fn width(text: &str, style: Style) -> f32 {
    pieces(text, style.weight)
        .iter()
        .map(|(face, piece)| advance(*face, piece, style.size))
        .sum()
}

/// Control characters (a newline in a name) would draw as boxes: they become spaces.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// `text` broken into lines no wider than `max`: at spaces, or anywhere in a word (or a
/// CJK run) that is wider than a line by itself.
pub fn wrap(text: &str, style: Style, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in clean(text).split(' ').filter(|w| !w.is_empty()) {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if width(&candidate, style) <= max {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            line.push(c);
            if width(&line, style) > max && line.chars().count() > 1 {
                line.pop();
                lines.push(std::mem::replace(&mut line, c.to_string()));
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Places marks top to bottom, starting a page when the next block does not fit.
struct Layout {
    pages: Vec<Vec<Mark>>,
    y: f32,
}

impl Layout {
    fn new() -> Self {
        Self {
            pages: vec![Vec::new()],
            y: MARGIN,
        }
    }

    /// Makes room for `height` points, on a new page if this one is full.
    fn reserve(&mut self, height: f32) {
        if self.y + height > HEIGHT - MARGIN && self.y > MARGIN {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }

    fn text(&mut self, x: f32, y: f32, text: &str, style: Style) {
        let text = clean(text);
        if text.is_empty() {
            return;
        }
        if let Some(page) = self.pages.last_mut() {
            page.push(Mark::Text { x, y, text, style });
        }
    }

    fn right(&mut self, right: f32, y: f32, text: &str, style: Style) {
        let x = right - width(&clean(text), style);
        self.text(x, y, text, style);
    }

    fn rule(&mut self) {
        let y = self.y;
        if let Some(page) = self.pages.last_mut() {
            page.push(Mark::Rule { y });
        }
    }
}

fn line_height(style: Style) -> f32 {
    style.size * 1.45
}

/// The sheet laid out on A4 pages.
pub fn layout(sheet: &Sheet) -> Vec<Vec<Mark>> {
    let mut at = Layout::new();
    at.y += TITLE.size;
    at.text(MARGIN, at.y, &sheet.title, TITLE);
    at.y += 18.0;

    let value_x = MARGIN + 110.0;
    for (label, value) in &sheet.facts {
        let lines = wrap(value, BODY, RIGHT - value_x);
        at.reserve(line_height(BODY) * lines.len() as f32);
        at.y += line_height(BODY);
        at.text(MARGIN, at.y, label, LABEL);
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                at.y += line_height(BODY);
            }
            at.text(value_x, at.y, line, BODY);
        }
    }
    at.y += 24.0;

    // Seller and buyer side by side.
    let column = (RIGHT - MARGIN) / 2.0 - 12.0;
    let buyer_x = MARGIN + column + 24.0;
    let seller = column_lines(&sheet.seller, column);
    let buyer = column_lines(&sheet.buyer, column);
    let rows = seller.len().max(buyer.len()) + 1;
    at.reserve(line_height(BODY) * rows as f32);
    at.y += line_height(LABEL);
    at.text(MARGIN, at.y, "From", LABEL);
    at.text(buyer_x, at.y, "Bill to", LABEL);
    for row in 0..rows - 1 {
        at.y += line_height(BODY);
        let style = |first: bool| if first { STRONG } else { BODY };
        if let Some((text, first)) = seller.get(row) {
            at.text(MARGIN, at.y, text, style(*first));
        }
        if let Some((text, first)) = buyer.get(row) {
            at.text(buyer_x, at.y, text, style(*first));
        }
    }
    at.y += 28.0;

    // Items.
    let amount_width = 130.0;
    at.reserve(line_height(LABEL) * 3.0);
    at.y += line_height(LABEL);
    at.text(MARGIN, at.y, "Description", LABEL);
    at.right(RIGHT, at.y, "Amount", LABEL);
    at.y += 6.0;
    at.rule();
    for (label, amount) in &sheet.items {
        let lines = wrap(label, BODY, RIGHT - MARGIN - amount_width);
        at.reserve(line_height(BODY) * lines.len() as f32 + 6.0);
        at.y += line_height(BODY) + 2.0;
        // The label before the amount, so that extracted text reads in that order.
        let first = at.y;
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                at.y += line_height(BODY);
            }
            at.text(MARGIN, at.y, line, BODY);
        }
        at.right(RIGHT, first, amount, BODY);
        at.y += 6.0;
        at.rule();
    }
    at.y += 8.0;

    // Totals, right-aligned.
    let label_x = RIGHT - 260.0;
    for (label, amount, strong) in &sheet.totals {
        let style = if *strong { STRONG } else { BODY };
        at.reserve(line_height(style));
        at.y += line_height(style);
        at.text(label_x, at.y, label, style);
        at.right(RIGHT, at.y, amount, style);
    }
    at.pages
}

/// Lines of a column, wrapped, each marked when it starts the column's first entry.
fn column_lines(entries: &[String], max: f32) -> Vec<(String, bool)> {
    entries
        .iter()
        .enumerate()
        .filter(|(_, entry)| !clean(entry).is_empty())
        .flat_map(|(index, entry)| {
            let style = if index == 0 { STRONG } else { BODY };
            wrap(entry, style, max)
                .into_iter()
                .enumerate()
                .map(move |(i, line)| (line, index == 0 && i == 0))
        })
        .collect()
}

fn fill((r, g, b): (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(r, g, b).into(),
        ..Fill::default()
    }
}

struct Fonts {
    regular: Font,
    bold: Font,
    fallback: Font,
}

impl Fonts {
    fn load() -> anyhow::Result<Self> {
        let load = |bytes: &'static [u8]| {
            Font::new(bytes.into(), 0)
                .ok_or_else(|| anyhow::anyhow!("an embedded font does not parse"))
        };
        Ok(Self {
            regular: load(REGULAR)?,
            bold: load(BOLD)?,
            fallback: load(FALLBACK)?,
        })
    }

    fn get(&self, face: Face) -> Font {
        match face {
            Face::Regular => self.regular.clone(),
            Face::Bold => self.bold.clone(),
            Face::Fallback => self.fallback.clone(),
        }
    }
}

fn draw_text(surface: &mut Surface<'_>, fonts: &Fonts, x: f32, y: f32, text: &str, style: Style) {
    surface.set_fill(Some(if style.gray {
        fill(GRAY)
    } else {
        Fill::default()
    }));
    let mut x = x;
    for (face, piece) in pieces(text, style.weight) {
        surface.draw_text(
            Point::from_xy(x, y),
            fonts.get(face),
            style.size,
            &piece,
            false,
            TextDirection::Auto,
        );
        x += advance(face, &piece, style.size);
    }
}

fn draw_rule(surface: &mut Surface<'_>, y: f32) {
    let mut path = PathBuilder::new();
    path.move_to(MARGIN, y);
    path.line_to(RIGHT, y);
    let Some(path) = path.finish() else {
        return;
    };
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke {
        paint: rgb::Color::new(200, 200, 200).into(),
        width: 0.6,
        ..Stroke::default()
    }));
    surface.draw_path(&path);
    surface.set_stroke(None);
}

/// The sheet as PDF bytes. CPU-bound: run it off the async threads.
pub fn render(sheet: &Sheet) -> anyhow::Result<Vec<u8>> {
    let fonts = Fonts::load()?;
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(sheet.title.clone())
            .creator("floe".to_owned()),
    );
    for marks in layout(sheet) {
        let settings = PageSettings::from_wh(WIDTH, HEIGHT)
            .ok_or_else(|| anyhow::anyhow!("the page size is invalid"))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        for mark in &marks {
            match mark {
                Mark::Text { x, y, text, style } => {
                    draw_text(&mut surface, &fonts, *x, *y, text, *style);
                }
                Mark::Rule { y } => draw_rule(&mut surface, *y),
            }
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|error| anyhow::anyhow!("writing the PDF: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Sheet {
        Sheet {
            title: "Invoice".to_owned(),
            facts: vec![("Invoice number".to_owned(), "ACME-0001".to_owned())],
            seller: vec!["Acme".to_owned()],
            buyer: vec![
                "Zoë Ğüneş".to_owned(),
                "東京都千代田区丸の内1-1".to_owned(),
                "Ελληνικά Привет".to_owned(),
            ],
            items: vec![("Pro".to_owned(), "19.00 USD".to_owned())],
            totals: vec![("Total".to_owned(), "19.00 USD".to_owned(), true)],
        }
    }

    #[test]
    fn every_character_has_a_font() {
        for (face, piece) in pieces("Zoë Ğüneş 東京都 1-1 Ελληνικά Привет", Weight::Regular)
        {
            assert!(piece.chars().all(|c| face.covers(c)), "{face:?} {piece}");
        }
        let split = pieces("東京都千代田区1-1", Weight::Regular);
        assert_eq!(
            split,
            vec![
                (Face::Fallback, "東京都千代田区".to_owned()),
                (Face::Regular, "1-1".to_owned())
            ]
        );
        assert_eq!(
            pieces("Zoë", Weight::Bold),
            vec![(Face::Bold, "Zoë".to_owned())]
        );
    }

    #[test]
    fn long_text_wraps_within_the_width() {
        let long = "A very long product name ".repeat(10);
        let lines = wrap(&long, BODY, 200.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| width(l, BODY) <= 200.0));
        let cjk = wrap(&"東京都千代田区".repeat(10), BODY, 100.0);
        assert!(cjk.len() > 1 && cjk.iter().all(|l| width(l, BODY) <= 100.0));
        assert_eq!(cjk.concat(), "東京都千代田区".repeat(10));
    }

    #[test]
    fn many_items_take_more_pages() {
        let mut sheet = sample();
        sheet.items = (0..200)
            .map(|i| (format!("Item {i}"), "1.00 USD".to_owned()))
            .collect();
        let pages = layout(&sheet);
        assert!(pages.len() > 1);
        for page in &pages {
            for mark in page {
                if let Mark::Text { y, .. } = mark {
                    assert!(*y <= HEIGHT - MARGIN + 1.0);
                }
            }
        }
    }

    #[test]
    fn renders_a_pdf_with_the_fonts_subsetted() {
        let bytes = render(&sample()).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        // Subsets, not the 5 MB of whole fonts.
        assert!(bytes.len() < 200_000, "{} bytes", bytes.len());
        if let Ok(path) = std::env::var("FLOE_PDF_SAMPLE") {
            std::fs::write(path, &bytes).unwrap();
        }
    }
}
