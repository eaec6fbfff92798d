//! Laying out report PDFs with printpdf: text measured with the embedded Noto
//! Sans (subset into each PDF, so names in Latin with diacritics, Greek and
//! Cyrillic print as typed), tables that break over pages and repeat their
//! header, a footer with the page number and the moment of printing, and the
//! signed proof attached as a file.
//!
//! printpdf positions text absolutely and has no tables, so this module
//! measures, wraps and places every line itself.

use std::sync::OnceLock;

use lopdf::{Dictionary, Object, Stream, StringFormat};
use printpdf::{
    Color, FontId, Line, LinePoint, Mm, Op, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt,
    Rgb, TextItem,
};
use unicode_normalization::UnicodeNormalization;

use super::ReportData;
use super::labels::{Labels, event, value};
use super::proof::{ATTACHMENT_NAME, ProofError, SignedProof};
use crate::error::{Error, Result};
use crate::policy::name::NameKind;
use crate::{Language, Timestamp};

const REGULAR_TTF: &[u8] = include_bytes!("../../fonts/NotoSans-Regular.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../fonts/NotoSans-Bold.ttf");

/// Millimetres per point.
const MM_PER_PT: f32 = 25.4 / 72.0;
const MARGIN: f32 = 16.0;
const BOTTOM: f32 = 20.0;
/// Space between a cell's text and its column's edge.
const PAD: f32 = 1.2;
/// The most a proof read back from a PDF may inflate to.
const MAX_PROOF_BYTES: usize = 64 << 20;

struct Faces {
    regular: ParsedFont,
    bold: ParsedFont,
}

/// The fonts, parsed once per process.
fn faces() -> Result<&'static Faces> {
    static FACES: OnceLock<Option<Faces>> = OnceLock::new();
    FACES
        .get_or_init(|| {
            let regular = ParsedFont::from_bytes(REGULAR_TTF, 0, &mut Vec::new())?;
            let bold = ParsedFont::from_bytes(BOLD_TTF, 0, &mut Vec::new())?;
            Some(Faces { regular, bold })
        })
        .as_ref()
        .ok_or_else(|| Error::Internal("the embedded report font cannot be read".into()))
}

/// How a piece of text looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Title,
    Heading,
    Regular,
    Bold,
    /// Small and grey: checksums, notes, running headers and footers.
    Small,
}

impl Style {
    fn size(self) -> f32 {
        match self {
            Style::Title => 15.0,
            Style::Heading => 11.0,
            Style::Regular | Style::Bold => 8.5,
            Style::Small => 6.5,
        }
    }

    /// The distance from one baseline to the next, in mm.
    fn leading(self) -> f32 {
        self.size() * 1.3 * MM_PER_PT
    }

    fn bold(self) -> bool {
        matches!(self, Style::Title | Style::Heading | Style::Bold)
    }
}

/// One column of a table.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub title: String,
    pub width: f32,
    pub right: bool,
}

impl Column {
    pub fn left(title: &str, width: f32) -> Column {
        Column { title: title.to_owned(), width, right: false }
    }

    pub fn right(title: &str, width: f32) -> Column {
        Column { title: title.to_owned(), width, right: true }
    }
}

/// The paragraphs of one table cell.
pub(crate) type Cell = Vec<(String, Style)>;

/// A cell of one paragraph.
pub(crate) fn cell(text: impl Into<String>) -> Cell {
    vec![(text.into(), Style::Regular)]
}

/// A PDF being written from the top of its first page down.
pub(crate) struct Writer {
    doc: PdfDocument,
    faces: &'static Faces,
    regular: FontId,
    bold: FontId,
    width: f32,
    height: f32,
    pages: Vec<Vec<Op>>,
    ops: Vec<Op>,
    y: f32,
    running: String,
    table: Option<Vec<Column>>,
}

impl Writer {
    /// A document of pages `width` × `height` mm; `running` heads every page after the first.
    pub fn new(title: &str, width: f32, height: f32, running: &str, made: Timestamp) -> Result<Writer> {
        let faces = faces()?;
        let mut doc = PdfDocument::new(title);
        let made = printpdf::OffsetDateTime::from_unix_timestamp(made.as_millis().div_euclid(1000))
            .map_err(|e| Error::internal("a report time out of range", e))?;
        let info = &mut doc.metadata.info;
        (info.creation_date, info.modification_date, info.metadata_date) = (made, made, made);
        info.creator = "koerier".into();
        info.producer = "koerier".into();
        let regular = doc.add_font(&faces.regular);
        let bold = doc.add_font(&faces.bold);
        let top = height - MARGIN;
        let running = running.to_owned();
        Ok(Writer {
            doc,
            faces,
            regular,
            bold,
            width,
            height,
            pages: Vec::new(),
            ops: Vec::new(),
            y: top,
            running,
            table: None,
        })
    }

    /// The width between the margins.
    pub fn text_width(&self) -> f32 {
        self.width - 2.0 * MARGIN
    }

    fn face(&self, style: Style) -> &ParsedFont {
        if style.bold() { &self.faces.bold } else { &self.faces.regular }
    }

    /// Text as it can be printed: composed (NFC, as a name typed on a Mac
    /// arrives decomposed), controls shown as spaces, and a character the
    /// font lacks spelled as its code point instead of an empty box.
    pub fn printable(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.nfc() {
            if c.is_control() {
                out.push(' ');
            } else if self.faces.regular.lookup_glyph_index(u32::from(c)).is_some() {
                out.push(c);
            } else {
                out.push_str(&format!("<U+{:04X}>", u32::from(c)));
            }
        }
        out
    }

    /// The printed width of text, in mm.
    fn measure(&self, text: &str, style: Style) -> f32 {
        let face = self.face(style);
        let units: u32 = text
            .chars()
            .map(|c| face.lookup_glyph_index(u32::from(c)).map_or(0, |g| u32::from(face.get_horizontal_advance(g))))
            .sum();
        let per_em = f32::from(face.font_metrics.units_per_em.max(1));
        units as f32 / per_em * style.size() * MM_PER_PT
    }

    /// Break text into lines no wider than `width` mm: at spaces, and inside
    /// a word only when the word alone is wider (a checksum, a long name),
    /// before a dash, dot, slash or underscore where there is one.
    pub fn wrap(&self, text: &str, style: Style, width: f32) -> Vec<String> {
        let text = self.printable(text);
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split(' ') {
            let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
            if self.measure(&candidate, style) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for c in word.chars() {
                line.push(c);
                if self.measure(&line, style) > width && line.chars().count() > 1 {
                    line.pop();
                    // Before the mark, not after: a line ending in a dash reads as
                    // a hyphenated word, and text extraction would drop the dash.
                    let cut = line.rfind(['-', '.', '/', '_']).filter(|&i| i > 0).unwrap_or(line.len());
                    let rest = format!("{}{c}", &line[cut..]);
                    line.truncate(cut);
                    lines.push(std::mem::replace(&mut line, rest));
                }
            }
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// Place one line of already printable text with its baseline at `y`.
    fn put(&mut self, x: f32, y: f32, style: Style, text: &str) {
        let font = if style.bold() { self.bold.clone() } else { self.regular.clone() };
        let grey = if style == Style::Small { 0.35 } else { 0.0 };
        self.ops.extend([
            Op::SetFillColor { col: Color::Rgb(Rgb { r: grey, g: grey, b: grey, icc_profile: None }) },
            Op::StartTextSection,
            Op::SetFont { font: PdfFontHandle::External(font), size: Pt(style.size()) },
            Op::SetTextCursor { pos: Point::new(Mm(x), Mm(y)) },
            Op::ShowText { items: vec![TextItem::Text(text.to_owned())] },
            Op::EndTextSection,
        ]);
    }

    fn rule(&mut self, y: f32, thickness: f32) {
        let point = |x: f32| LinePoint { p: Point::new(Mm(x), Mm(y)), bezier: false };
        self.ops.extend([
            Op::SetOutlineColor { col: Color::Rgb(Rgb { r: 0.6, g: 0.6, b: 0.6, icc_profile: None }) },
            Op::SetOutlineThickness { pt: Pt(thickness) },
            Op::DrawLine { line: Line { points: vec![point(MARGIN), point(self.width - MARGIN)], is_closed: false } },
        ]);
    }

    /// Start a new page when less than `needed` mm are left on this one.
    fn ensure(&mut self, needed: f32) {
        if self.y - needed < BOTTOM {
            self.new_page();
        }
    }

    fn new_page(&mut self) {
        self.pages.push(std::mem::take(&mut self.ops));
        self.y = self.height - MARGIN;
        let running = self.printable(&self.running);
        self.put(MARGIN, self.y, Style::Small, &running);
        self.y -= 2.0;
        self.rule(self.y, 0.3);
        self.y -= 6.0;
        if let Some(columns) = self.table.clone() {
            self.table_header(&columns);
        }
    }

    /// Move down by `mm`.
    pub fn space(&mut self, mm: f32) {
        self.y -= mm;
    }

    /// A paragraph across the page.
    pub fn paragraph(&mut self, text: &str, style: Style) {
        for line in self.wrap(text, style, self.text_width()) {
            self.ensure(style.leading());
            self.y -= style.leading();
            self.put(MARGIN, self.y, style, &line);
        }
    }

    /// A section heading, kept together with the start of what follows.
    pub fn heading(&mut self, text: &str) {
        self.ensure(Style::Heading.leading() + 25.0);
        self.y -= 4.0;
        self.paragraph(text, Style::Heading);
        self.y -= 1.5;
    }

    /// Label and value pairs, the labels in bold in a column of their own.
    pub fn fields(&mut self, rows: &[(&str, String)]) {
        let label_width = 42.0;
        for (label, text) in rows {
            let lines = self.wrap(text, Style::Regular, self.text_width() - label_width);
            self.ensure(Style::Regular.leading() * lines.len() as f32);
            self.y -= Style::Regular.leading();
            let label = self.printable(label);
            self.put(MARGIN, self.y, Style::Bold, &label);
            for (i, line) in lines.iter().enumerate() {
                if i > 0 {
                    self.y -= Style::Regular.leading();
                }
                self.put(MARGIN + label_width, self.y, Style::Regular, line);
            }
            self.y -= 0.6;
        }
    }

    fn table_header(&mut self, columns: &[Column]) {
        let leading = Style::Bold.leading();
        let mut x = MARGIN;
        let mut lowest = self.y;
        for column in columns {
            let mut y = self.y;
            for line in self.wrap(&column.title, Style::Bold, column.width - 2.0 * PAD) {
                y -= leading;
                let at = if column.right { x + column.width - PAD - self.measure(&line, Style::Bold) } else { x + PAD };
                self.put(at, y, Style::Bold, &line);
            }
            lowest = lowest.min(y);
            x += column.width;
        }
        self.y = lowest - 1.5;
        self.rule(self.y, 0.6);
    }

    /// A table whose header is repeated on every page it spans. A row is
    /// never split over two pages.
    pub fn table(&mut self, columns: &[Column], rows: Vec<Vec<Cell>>) {
        self.ensure(Style::Bold.leading() * 2.0 + 12.0);
        self.table_header(columns);
        self.table = Some(columns.to_vec());
        for row in rows {
            self.table_row(columns, &row);
        }
        self.table = None;
    }

    fn table_row(&mut self, columns: &[Column], row: &[Cell]) {
        let laid: Vec<Vec<(String, Style)>> = columns
            .iter()
            .zip(row)
            .map(|(column, cell)| {
                cell.iter()
                    .flat_map(|(text, style)| {
                        self.wrap(text, *style, column.width - 2.0 * PAD).into_iter().map(move |l| (l, *style))
                    })
                    .collect()
            })
            .collect();
        let height = laid.iter().map(|lines| lines.iter().map(|(_, s)| s.leading()).sum::<f32>()).fold(0.0, f32::max);
        self.ensure(height + 1.6);
        let mut x = MARGIN;
        for (column, lines) in columns.iter().zip(&laid) {
            let mut y = self.y - 0.6;
            for (line, style) in lines {
                y -= style.leading();
                let at = if column.right { x + column.width - PAD - self.measure(line, *style) } else { x + PAD };
                self.put(at, y, *style, line);
            }
            x += column.width;
        }
        self.y -= height + 1.6;
        self.rule(self.y, 0.2);
    }

    /// Number the pages, put the footer on each, attach the proof and write the file.
    pub fn finish(mut self, footer: &str, labels: &Labels, proof: &SignedProof) -> Result<Vec<u8>> {
        self.pages.push(std::mem::take(&mut self.ops));
        let total = self.pages.len();
        let footer = self.printable(footer);
        let mut pages = Vec::with_capacity(total);
        for (i, ops) in std::mem::take(&mut self.pages).into_iter().enumerate() {
            self.ops = ops;
            self.rule(BOTTOM - 6.0, 0.3);
            self.put(MARGIN, BOTTOM - 10.0, Style::Small, &footer);
            let number = format!("{} {} {} {total}", labels.page, i + 1, labels.of);
            let at = self.width - MARGIN - self.measure(&number, Style::Small);
            self.put(at, BOTTOM - 10.0, Style::Small, &number);
            pages.push(PdfPage::new(Mm(self.width), Mm(self.height), std::mem::take(&mut self.ops)));
        }
        self.doc.with_pages(pages);
        let options = PdfSaveOptions { optimize: true, subset_fonts: true, ..PdfSaveOptions::default() };
        let mut warnings = Vec::new();
        let mut doc = self.doc.to_lopdf_document(&options, &mut warnings);
        attach(&mut doc, proof)?;
        doc.compress();
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).map_err(|e| Error::internal("cannot write the report PDF", e))?;
        Ok(bytes)
    }
}

/// Attach the proof as an embedded file of the document (PDF 32000 7.11.4),
/// listed in the catalog's `EmbeddedFiles` and as an associated file.
fn attach(doc: &mut lopdf::Document, proof: &SignedProof) -> Result<()> {
    let size = i64::try_from(proof.as_bytes().len()).unwrap_or(i64::MAX);
    let mut params = Dictionary::new();
    params.set("Size", Object::Integer(size));
    let mut stream_dict = Dictionary::new();
    stream_dict.set("Type", Object::Name(b"EmbeddedFile".to_vec()));
    stream_dict.set("Params", Object::Dictionary(params));
    let file_id = doc.add_object(Stream::new(stream_dict, proof.as_bytes().to_vec()));
    let name = || Object::String(ATTACHMENT_NAME.as_bytes().to_vec(), StringFormat::Literal);
    let mut ef = Dictionary::new();
    ef.set("F", Object::Reference(file_id));
    let mut spec = Dictionary::new();
    spec.set("Type", Object::Name(b"Filespec".to_vec()));
    spec.set("F", name());
    spec.set("UF", name());
    spec.set("EF", Object::Dictionary(ef));
    spec.set("AFRelationship", Object::Name(b"Data".to_vec()));
    spec.set("Desc", Object::String(b"signed proof of this report".to_vec(), StringFormat::Literal));
    let spec_id = doc.add_object(spec);
    let mut tree = Dictionary::new();
    tree.set("Names", Object::Array(vec![name(), Object::Reference(spec_id)]));
    let mut names = Dictionary::new();
    names.set("EmbeddedFiles", Object::Dictionary(tree));
    let catalog = doc.catalog_mut().map_err(|e| Error::internal("the report PDF has no catalog", e))?;
    catalog.set("Names", Object::Dictionary(names));
    catalog.set("AF", Object::Array(vec![Object::Reference(spec_id)]));
    Ok(())
}

/// The proof attached to a report PDF.
pub(crate) fn attached_proof(pdf: &[u8]) -> Result<Vec<u8>, ProofError> {
    let missing = |what: &str| ProofError::NoAttachment(what.to_owned());
    let doc = lopdf::Document::load_mem(pdf).map_err(|e| ProofError::NoAttachment(e.to_string()))?;
    let catalog = doc.catalog().map_err(|_| missing("it has no catalog"))?;
    let deref = |object: &Object| -> Option<Object> {
        match object {
            Object::Reference(id) => doc.get_object(*id).ok().cloned(),
            other => Some(other.clone()),
        }
    };
    let names = catalog.get(b"Names").ok().and_then(deref).and_then(|o| o.as_dict().ok().cloned());
    let tree = names
        .as_ref()
        .and_then(|n| n.get(b"EmbeddedFiles").ok())
        .and_then(deref)
        .and_then(|o| o.as_dict().ok().cloned())
        .ok_or_else(|| missing("it has no attached files"))?;
    let entries = tree.get(b"Names").ok().and_then(deref).and_then(|o| o.as_array().ok().cloned()).unwrap_or_default();
    let spec = entries
        .chunks(2)
        .find(|pair| matches!(pair.first(), Some(Object::String(n, _)) if n.as_slice() == ATTACHMENT_NAME.as_bytes()))
        .and_then(|pair| pair.get(1))
        .and_then(deref)
        .and_then(|o| o.as_dict().ok().cloned())
        .ok_or_else(|| missing(&format!("it has no {ATTACHMENT_NAME}")))?;
    let file = spec
        .get(b"EF")
        .ok()
        .and_then(deref)
        .and_then(|ef| ef.as_dict().ok().and_then(|d| d.get(b"F").ok()).and_then(deref))
        .ok_or_else(|| missing("the attachment has no content"))?;
    let stream = file.as_stream().map_err(|_| missing("the attachment is not a stream"))?;
    if stream.dict.get(b"Filter").is_err() {
        return Ok(stream.content.clone());
    }
    stream.decompressed_content_with_limit(MAX_PROOF_BYTES).map_err(|e| ProofError::NoAttachment(e.to_string()))
}

/// A moment as a report shows it: UTC, to the second.
pub(crate) fn shown(t: Timestamp) -> String {
    t.rfc3339().replacen('T', " ", 1).replace('Z', " UTC")
}

/// A size in bytes, with the unit a reader thinks in alongside.
pub(crate) fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The PDF of one message's report.
pub(crate) fn message_pdf(data: &ReportData, language: Language, proof: &SignedProof) -> Result<Vec<u8>> {
    let l = Labels::of(language);
    let t = &data.transfer;
    let running = format!("koerier · {} · {}", l.report_title, t.name);
    let mut w = Writer::new(&format!("{} {}", l.report_title, t.name), 210.0, 297.0, &running, data.generated_at)?;
    w.paragraph(&format!("{} — {}", l.report_title, t.name), Style::Title);
    w.space(3.0);
    envelope(&mut w, data, l, language);
    documents(&mut w, data, l, language);
    downloads(&mut w, data, l, language);
    trail(&mut w, data, l, language);
    w.space(4.0);
    w.paragraph(&format!("{} {}", l.proof_note, proof.fingerprint()), Style::Small);
    let footer = format!("koerier · {} · {} {}", t.name, l.printed, shown(data.generated_at));
    w.finish(&footer, l, proof)
}

fn envelope(w: &mut Writer, data: &ReportData, l: &Labels, language: Language) {
    let t = &data.transfer;
    let or_none = |v: Option<String>| v.unwrap_or_else(|| l.none.to_owned());
    let expiry_label = if t.state == crate::TransferState::Expired { l.expired } else { l.expires };
    let mut rows =
        vec![(l.message, t.name.clone()), (l.sender, t.sender.clone()), (l.recipient, or_none(t.recipient.clone()))];
    if let Some(phone) = &data.recipient_phone {
        rows.push((l.code_to, phone.clone()));
    }
    rows.extend([
        (l.subject, t.subject.clone()),
        (l.reference, t.reference.clone()),
        (l.kind, value(language, t.kind.as_str())),
        (l.state, value(language, t.state.as_str())),
        (l.door, or_none(data.door.as_deref().map(|d| value(language, d)))),
        (l.created, shown(t.created_at)),
        (l.sent, or_none(t.sent_at.map(shown))),
        (expiry_label, or_none(t.expires_at.map(shown))),
        (l.printed, shown(data.generated_at)),
    ]);
    w.fields(&rows);
}

fn documents(w: &mut Writer, data: &ReportData, l: &Labels, language: Language) {
    let delivered = data.documents.iter().filter(|d| d.kind != NameKind::Member).count();
    w.heading(&format!("{} ({delivered})", l.documents));
    let columns = [
        Column::right("#", 9.0),
        Column::left(l.name_and_sha, 90.0),
        Column::right(l.size, 18.0),
        Column::left(l.check, 28.0),
        Column::left(l.deleted, w.text_width() - 145.0),
    ];
    // A file in a folder follows its zip, unnumbered, under its path.
    let mut number = 0;
    let rows = data
        .documents
        .iter()
        .map(|d| {
            let mut name = cell(d.name.as_str());
            name.push((d.sha256.clone().unwrap_or_else(|| "-".into()), Style::Small));
            let shown_number = match d.kind {
                NameKind::Member => String::new(),
                _ => {
                    number += 1;
                    number.to_string()
                }
            };
            vec![
                cell(shown_number),
                name,
                cell(size(d.size)),
                cell(d.content_check.as_deref().map_or_else(|| "-".into(), |c| value(language, c))),
                cell(d.deleted_at.map_or_else(|| "-".into(), shown)),
            ]
        })
        .collect();
    w.table(&columns, rows);
}

fn downloads(w: &mut Writer, data: &ReportData, l: &Labels, language: Language) {
    w.heading(&format!("{} ({})", l.downloads, data.downloads.len()));
    if data.downloads.is_empty() {
        w.paragraph(l.none, Style::Regular);
        return;
    }
    let columns = [
        Column::left(l.when, 28.0),
        Column::left(l.who, 42.0),
        Column::left(l.document, 44.0),
        Column::left(l.proved_by, 24.0),
        Column::left(l.via, 16.0),
        Column::left(l.ip, w.text_width() - 154.0),
    ];
    let rows = data
        .downloads
        .iter()
        .map(|d| {
            vec![
                cell(shown(d.at)),
                cell(d.who.as_str()),
                cell(d.document.clone().unwrap_or_else(|| "-".into())),
                cell(value(language, &d.proof)),
                cell(value(language, &d.door)),
                cell(d.ip.clone().unwrap_or_else(|| "-".into())),
            ]
        })
        .collect();
    w.table(&columns, rows);
}

/// Identity, failed codes, lockouts, notifications, deletion, then every event.
fn trail(w: &mut Writer, data: &ReportData, l: &Labels, language: Language) {
    let of = |kind: &str| data.events.iter().filter(|e| e.kind == kind).collect::<Vec<_>>();
    let times = |kind: &str| {
        let at: Vec<String> = of(kind).iter().map(|e| shown(Timestamp::from_millis(e.at))).collect();
        if at.is_empty() { l.none.to_owned() } else { format!("{} ({})", at.len(), at.join(", ")) }
    };
    let proofs: Vec<String> = of("link-redeemed")
        .iter()
        .map(|e| {
            let how = value(language, e.detail.as_deref().unwrap_or("-"));
            format!("{how} ({})", shown(Timestamp::from_millis(e.at)))
        })
        .collect();
    let delivered = of("message-sent").len();
    let failed = of("delivery-failed").len();
    let t = &data.transfer;
    let destroyed = data.documents.iter().filter_map(|d| d.deleted_at).max();
    let deletion = match (destroyed, t.expires_at) {
        (Some(at), _) => format!("{} {}", l.deletion_done, shown(at)),
        (None, Some(at)) => format!("{} {}", l.deletion_pending, shown(at)),
        (None, None) => "-".into(),
    };
    w.heading(l.events);
    w.fields(&[
        (l.identity, if proofs.is_empty() { l.none.to_owned() } else { proofs.join(", ") }),
        (l.failed_codes, times("code-failed")),
        (l.lockouts, times("link-locked")),
        (l.notifications, format!("{delivered} {}, {failed} {}", l.delivered, l.given_up)),
        (l.deletion, deletion),
    ]);
    w.space(2.0);
    let columns = [
        Column::left(l.when, 28.0),
        Column::left(l.event, 38.0),
        Column::left(l.via, 24.0),
        Column::left(l.who, 40.0),
        Column::left(l.detail, w.text_width() - 130.0),
    ];
    let rows = data
        .events
        .iter()
        .map(|e| {
            let who = match (&e.actor, &e.ip) {
                (Some(a), Some(ip)) => format!("{a} ({ip})"),
                (Some(a), None) => a.clone(),
                (None, Some(ip)) => ip.clone(),
                (None, None) => "-".into(),
            };
            vec![
                cell(shown(Timestamp::from_millis(e.at))),
                cell(event(language, &e.kind)),
                cell(value(language, &e.door)),
                cell(who),
                cell(e.detail.clone().unwrap_or_default()),
            ]
        })
        .collect();
    w.table(&columns, rows);
}
