//! The laid-out pages written as a PDF with pdf-writer: Helvetica by name, each embedded font
//! subset to the glyphs used (subsetter) as a Type0 / CIDFontType2 font, Identity-H, with a
//! ToUnicode map so its text can be copied and searched. Streams are deflated.

use std::collections::BTreeMap;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, TextRenderingMode, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::fonts::{self, Embedded, FontSlot, Fonts};
use super::page::{Op, PAGE_HEIGHT, PAGE_WIDTH, Page};
use super::text::Rgb;
use crate::conformance::report::doc::Document;
use crate::protocol::model::Lang;

/// Hands out object numbers in order.
struct Refs(i32);

impl Refs {
    fn next(&mut self) -> Ref {
        self.0 += 1;
        Ref::new(self.0)
    }
}

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// The glyphs each embedded font draws, by original glyph id, with the character of each.
fn used_glyphs(pages: &[Page]) -> BTreeMap<FontSlot, BTreeMap<u16, char>> {
    let mut used: BTreeMap<FontSlot, BTreeMap<u16, char>> = BTreeMap::new();
    for op in pages.iter().flat_map(|p| &p.ops) {
        if let Op::Text { glyphs, .. } = op {
            for g in glyphs.iter().filter(|g| matches!(g.slot, FontSlot::Cjk | FontSlot::Symbols)) {
                used.entry(g.slot).or_default().entry(g.id).or_insert(g.ch);
            }
        }
    }
    used
}

/// An embedded font's subset: new glyph ids by old ones.
struct Subset {
    new_ids: BTreeMap<u16, u16>,
}

/// Six capitals from the glyph set, the subset tag PDF asks for (`ABCDEF+Name`).
fn subset_tag(glyphs: &BTreeMap<u16, char>) -> String {
    let mut hash: u32 = 2_166_136_261;
    for id in glyphs.keys() {
        for byte in id.to_be_bytes() {
            hash = (hash ^ u32::from(byte)).wrapping_mul(16_777_619);
        }
    }
    (0..6).map(|i| char::from(b'A' + ((hash >> (i * 5)) % 26) as u8)).collect()
}

fn write_embedded(pdf: &mut Pdf, refs: &mut Refs, font_ref: Ref, font: &Embedded, glyphs: &BTreeMap<u16, char>) -> anyhow::Result<Subset> {
    let mut remapper = subsetter::GlyphRemapper::new();
    let new_ids: BTreeMap<u16, u16> = glyphs.keys().map(|old| (*old, remapper.remap(*old))).collect();
    let data = subsetter::subset(font.data, 0, &remapper).map_err(|e| fonts::subset_error(font.name, e))?;
    let base = format!("{}+{}", subset_tag(glyphs), font.name);
    let (cid_ref, descriptor_ref, file_ref, cmap_ref) = (refs.next(), refs.next(), refs.next(), refs.next());

    pdf.type0_font(font_ref).base_font(Name(base.as_bytes())).encoding_predefined(Name(b"Identity-H")).descendant_font(cid_ref).to_unicode(cmap_ref);

    // Widths by new id (the CID, as CIDToGIDMap is Identity); 0 is .notdef.
    let mut widths = vec![font.advance(0); usize::from(remapper.num_gids())];
    for (old, new) in &new_ids {
        if let Some(w) = widths.get_mut(usize::from(*new)) {
            *w = font.advance(*old);
        }
    }
    let system_info = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };
    let mut cid = pdf.cid_font(cid_ref);
    cid.subtype(CidFontType::Type2).base_font(Name(base.as_bytes())).system_info(system_info).font_descriptor(descriptor_ref).cid_to_gid_map_predefined(Name(b"Identity"));
    cid.widths().consecutive(0, widths);
    cid.finish();

    let face = &font.face;
    let bbox = face.global_bounding_box();
    let cap_height = face.capital_height().map_or(face.ascender(), |h| h);
    pdf.font_descriptor(descriptor_ref)
        .name(Name(base.as_bytes()))
        .flags(FontFlags::SYMBOLIC)
        .bbox(Rect::new(font.scale(f32::from(bbox.x_min)), font.scale(f32::from(bbox.y_min)), font.scale(f32::from(bbox.x_max)), font.scale(f32::from(bbox.y_max))))
        .italic_angle(0.0)
        .ascent(font.scale(f32::from(face.ascender())))
        .descent(font.scale(f32::from(face.descender())))
        .cap_height(font.scale(f32::from(cap_height)))
        .stem_v(80.0)
        .font_file2(file_ref);

    let compressed = deflate(&data);
    pdf.stream(file_ref, &compressed).filter(Filter::FlateDecode).pair(Name(b"Length1"), i32::try_from(data.len()).unwrap_or(i32::MAX));

    let mut cmap = UnicodeCmap::new(Name(b"Custom"), system_info);
    for (old, ch) in glyphs {
        if let Some(new) = new_ids.get(old) {
            cmap.pair(*new, *ch);
        }
    }
    pdf.cmap(cmap_ref, &cmap.finish());
    Ok(Subset { new_ids })
}

/// The bytes a run of glyphs shows: WinAnsi bytes for Helvetica, big-endian CIDs otherwise.
fn encode(glyphs: &[super::fonts::Glyph], subsets: &BTreeMap<FontSlot, Subset>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(glyphs.len() * 2);
    for g in glyphs {
        match subsets.get(&g.slot) {
            Some(subset) => bytes.extend_from_slice(&subset.new_ids.get(&g.id).copied().unwrap_or(0).to_be_bytes()),
            None => bytes.push(u8::try_from(g.id).unwrap_or(b'?')),
        }
    }
    bytes
}

fn fill(content: &mut Content, (r, g, b): Rgb) {
    content.set_fill_rgb(r, g, b);
}

fn page_content(page: &Page, subsets: &BTreeMap<FontSlot, Subset>) -> Vec<u8> {
    let mut content = Content::new();
    content.set_line_width(0.5);
    for op in &page.ops {
        match op {
            Op::Rect { x, y, width, height, fill: background, stroke } => {
                if let Some(color) = background {
                    fill(&mut content, *color);
                    content.rect(*x, *y, *width, *height).fill_nonzero();
                }
                if let Some((r, g, b)) = stroke {
                    content.set_stroke_rgb(*r, *g, *b);
                    if *height == 0.0 {
                        content.move_to(*x, *y).line_to(x + width, *y).stroke();
                    } else {
                        content.rect(*x, *y, *width, *height).stroke();
                    }
                }
            }
            Op::Text { x, y, size, color, glyphs } => {
                content.begin_text();
                fill(&mut content, *color);
                content.set_stroke_rgb(color.0, color.1, color.2);
                content.set_text_matrix([1.0, 0.0, 0.0, 1.0, *x, *y]);
                // One run per font and weight; each show advances by the font's own widths,
                // which are the widths the layout used.
                for run in glyphs.chunk_by(|a, b| a.slot == b.slot && a.bold == b.bold) {
                    let first = run[0];
                    content.set_font(Name(first.slot.resource()), *size);
                    // Bold in an embedded font: its outline stroked as well as filled.
                    let faux_bold = first.bold && subsets.contains_key(&first.slot);
                    content.set_text_rendering_mode(if faux_bold { TextRenderingMode::FillStroke } else { TextRenderingMode::Fill });
                    if faux_bold {
                        content.set_line_width(size * 0.035);
                    }
                    content.show(Str(&encode(run, subsets)));
                }
                content.end_text();
                content.set_line_width(0.5);
            }
        }
    }
    content.finish().to_vec()
}

/// The PDF file.
pub fn write(fonts: &Fonts, doc: &Document, pages: &[Page]) -> anyhow::Result<Vec<u8>> {
    let mut pdf = Pdf::new();
    let mut refs = Refs(0);
    let (catalog, tree, info) = (refs.next(), refs.next(), refs.next());
    let slots = [FontSlot::Helvetica, FontSlot::HelveticaBold, FontSlot::Cjk, FontSlot::Symbols];
    let font_refs: Vec<(FontSlot, Ref)> = slots.iter().map(|s| (*s, refs.next())).collect();
    let page_refs: Vec<(Ref, Ref)> = pages.iter().map(|_| (refs.next(), refs.next())).collect();

    pdf.catalog(catalog).pages(tree).lang(TextStr(if doc.lang == Lang::Zh { "zh-CN" } else { "en" }));
    pdf.pages(tree).kids(page_refs.iter().map(|(page, _)| *page)).count(i32::try_from(pages.len()).unwrap_or(i32::MAX));
    let title = format!("{} — {}", doc.title, doc.subject);
    pdf.document_info(info).title(TextStr(&title)).producer(TextStr("cems-workbench"));

    let used = used_glyphs(pages);
    let mut subsets = BTreeMap::new();
    for (slot, font_ref) in &font_refs {
        match (slot, fonts.embedded(*slot)) {
            (_, Some(font)) => {
                let glyphs = used.get(slot).cloned().unwrap_or_default();
                subsets.insert(*slot, write_embedded(&mut pdf, &mut refs, *font_ref, font, &glyphs)?);
            }
            (FontSlot::HelveticaBold, None) => {
                pdf.type1_font(*font_ref).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
            }
            (_, None) => {
                pdf.type1_font(*font_ref).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
            }
        }
    }

    for (page, (page_ref, content_ref)) in pages.iter().zip(&page_refs) {
        let mut p = pdf.page(*page_ref);
        p.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT)).parent(tree).contents(*content_ref);
        let mut resources = p.resources();
        let mut font_dict = resources.fonts();
        for (slot, font_ref) in &font_refs {
            font_dict.pair(Name(slot.resource()), *font_ref);
        }
        font_dict.finish();
        resources.finish();
        p.finish();
        let content = deflate(&page_content(page, &subsets));
        pdf.stream(*content_ref, &content).filter(Filter::FlateDecode);
    }
    Ok(pdf.finish())
}
