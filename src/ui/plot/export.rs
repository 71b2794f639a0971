//! A panel's exports: the visible range of its visible series as CSV (the engine's one CSV
//! writer), and a PNG of the panel (egui's screenshot of the next frame, cropped to the panel).
//! Files are written on a thread (atomically); errors are said next to the row, never a panic.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use egui::{ColorImage, Rect, Ui};

use super::meta::SeriesMeta;
use crate::ui::path_prompt::{PathPrompt, file_stem, proposed};
use crate::engine::series::{Series, SeriesKey, write_csv};
use crate::protocol::time::now_ms;
use crate::ui::ViewContext;
use crate::ui::connections::background::{Pending, Poll};
use crate::ui::file_dialog::{DialogRequest, start_dir_of};
use crate::ui::format::format_local;
use crate::ui::widgets::fill;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Csv,
    Png,
}

/// How an export ended: (what to say, an error?).
type Said = (String, bool);

/// A screenshot asked for and where it goes.
#[derive(Debug)]
struct Shot {
    image: Receiver<Arc<ColorImage>>,
    path: PathBuf,
}

/// The export row of one panel: shown while the user names the file, then the write's outcome.
#[derive(Debug, Default)]
pub struct ExportRow {
    open: Option<(ExportKind, PathPrompt)>,
    /// The screenshot asked for, with where it goes and which part of the window to keep.
    shot: Option<Shot>,
    writing: Option<Pending<Result<String, String>>>,
    last: Option<Said>,
}

impl ExportRow {
    /// Shows the row for `kind`, proposing a file named after the plot.
    pub fn open(&mut self, kind: ExportKind, title: &str) {
        let stamp: String = format_local(now_ms()).chars().take(19).map(|c| if c == ' ' { '-' } else { c }).filter(|c| *c != ':').collect();
        let ext = if kind == ExportKind::Csv { "csv" } else { "png" };
        self.open = Some((kind, PathPrompt::new(proposed(&format!("{}-{stamp}.{ext}", file_stem(title))))));
        self.last = None;
    }

    /// The path typed in the open row, for tests and for the tab.
    pub fn path_mut(&mut self) -> Option<&mut String> {
        self.open.as_mut().map(|(_, p)| &mut p.path)
    }

    /// Polls the write and the screenshot; draws the row when open.
    pub fn ui(&mut self, ui: &mut Ui, view: &ViewContext, metas: &[SeriesMeta], hidden: &BTreeSet<SeriesKey>, range: Option<(i64, i64)>, panel: Option<Rect>) {
        self.poll(ui, view, panel);
        if let Some((kind, prompt)) = &mut self.open {
            let (label, action) = match kind {
                ExportKind::Csv => (view.tr("Export CSV to"), view.tr("Export")),
                ExportKind::Png => (view.tr("Save PNG to"), view.tr("Save")),
            };
            let title = label.to_owned();
            let mut cancel = false;
            let chosen = ui
                .horizontal(|ui| {
                    let chosen = prompt.ui(ui, view, label, action, |typed| DialogRequest::Save {
                        title,
                        start_dir: start_dir_of(typed),
                        file_name: Path::new(typed.trim()).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                    });
                    cancel = ui.button(view.tr("Cancel")).clicked();
                    chosen
                })
                .inner;
            let kind = *kind;
            if cancel {
                self.open = None;
            } else if let Some(path) = chosen {
                self.open = None;
                match kind {
                    ExportKind::Csv => self.start_csv(view, metas, hidden, range, path),
                    ExportKind::Png => {
                        let (tx, rx) = channel();
                        let ctx = ui.ctx().clone();
                        ui.ctx().request_screenshot(move |image| {
                            // The panel's receiver may be gone (closed): nothing to do then.
                            let _ = tx.send(image);
                            ctx.request_repaint();
                        });
                        self.shot = Some(Shot { image: rx, path });
                    }
                }
            }
        }
        match &self.last {
            // Nothing said while the screenshot is pending: the picture would show it.
            _ if self.shot.is_some() => {}
            _ if self.writing.is_some() => {
                ui.weak(view.tr("Writing…"));
            }
            Some((text, true)) => {
                ui.colored_label(ui.visuals().error_fg_color, text);
            }
            Some((text, false)) => {
                ui.weak(text);
            }
            None => {}
        }
    }

    /// `panel`: where the panel was in the last frame, the one the screenshot shows.
    fn poll(&mut self, ui: &Ui, view: &ViewContext, panel: Option<Rect>) {
        if let Some(shot) = self.shot.take() {
            match shot.image.try_recv() {
                Err(TryRecvError::Empty) => self.shot = Some(shot),
                Err(TryRecvError::Disconnected) => self.last = Some((view.tr("The screenshot did not arrive.").to_owned(), true)),
                Ok(image) => {
                    let (path, rect, pixels_per_point) = (shot.path, panel.unwrap_or(Rect::NOTHING), ui.ctx().pixels_per_point());
                    let saved = view.tr("Saved {path}");
                    self.spawn(move || write_png(&image, rect, pixels_per_point, &path).map(|()| fill(saved, &[("path", &path.display().to_string())])));
                }
            }
        }
        let Some(pending) = &self.writing else { return };
        let said = match pending.poll() {
            Poll::Waiting => {
                ui.ctx().request_repaint_after(std::time::Duration::from_millis(100));
                return;
            }
            Poll::Ready(Ok(text)) => (text, false),
            Poll::Ready(Err(e)) => (e, true),
            Poll::Lost => ("the writing thread ended".to_owned(), true),
        };
        self.last = Some(said);
        self.writing = None;
    }

    fn spawn(&mut self, work: impl FnOnce() -> Result<String, String> + Send + 'static) {
        match Pending::spawn("plot-export", work) {
            Ok(pending) => self.writing = Some(pending),
            Err(e) => self.last = Some((e.to_string(), true)),
        }
    }

    /// Copies the visible series out under the store's lock (a copy of their columns, quick next
    /// to formatting them), then formats and writes on a thread.
    fn start_csv(&mut self, view: &ViewContext, metas: &[SeriesMeta], hidden: &BTreeSet<SeriesKey>, range: Option<(i64, i64)>, path: PathBuf) {
        let Some((from, to)) = range else {
            self.last = Some((view.tr("Nothing is drawn yet.").to_owned(), true));
            return;
        };
        let columns: Vec<(String, Series)> = {
            let store = view.state.series();
            metas.iter().filter(|m| !hidden.contains(&m.key)).filter_map(|m| Some((m.csv_header(), store.get(&m.key)?.clone()))).collect()
        };
        if columns.is_empty() {
            self.last = Some((view.tr("No visible series has samples.").to_owned(), true));
            return;
        }
        let written = view.tr("Wrote {n} rows to {path}");
        self.spawn(move || {
            let refs: Vec<(String, &Series)> = columns.iter().map(|(h, s)| (h.clone(), s)).collect();
            let mut text = Vec::new();
            let rows = write_csv(&mut text, &refs, from, to).map_err(|e| format!("{}: {e}", path.display()))?;
            crate::disk::write_atomic(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(fill(written, &[("n", &rows.to_string()), ("path", &path.display().to_string())]))
        });
    }
}

/// The part of `image` (the whole window, in pixels) under `rect` (points), clamped to it.
pub fn crop(image: &ColorImage, rect: Rect, pixels_per_point: f32) -> Option<ColorImage> {
    let [w, h] = image.size;
    let px = |v: f32, max: usize| ((v * pixels_per_point).round().max(0.0) as usize).min(max);
    let (x0, x1) = (px(rect.min.x, w), px(rect.max.x, w));
    let (y0, y1) = (px(rect.min.y, h), px(rect.max.y, h));
    (x1 > x0 && y1 > y0).then(|| image.region_by_pixels([x0, y0], [x1 - x0, y1 - y0]))
}

/// PNG bytes (8-bit RGBA) of `image`.
pub fn encode_png(image: &ColorImage) -> Result<Vec<u8>, String> {
    let [w, h] = image.size;
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, w as u32, h as u32);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let rgba: Vec<u8> = image.pixels.iter().flat_map(|p| p.to_srgba_unmultiplied()).collect();
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&rgba).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(bytes)
}

fn write_png(image: &ColorImage, rect: Rect, pixels_per_point: f32, path: &Path) -> Result<(), String> {
    let part = crop(image, rect, pixels_per_point).ok_or_else(|| "the plot panel is not on screen".to_owned())?;
    let bytes = encode_png(&part)?;
    crate::disk::write_atomic(path, &bytes).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::{Color32, pos2};

    #[test]
    fn a_crop_stays_inside_the_image_and_encodes() {
        let image = ColorImage::new([40, 20], vec![Color32::RED; 800]);
        let part = crop(&image, Rect::from_min_max(pos2(5.0, 5.0), pos2(100.0, 100.0)), 2.0).unwrap();
        assert_eq!(part.size, [30, 10]);
        assert!(crop(&image, Rect::from_min_max(pos2(50.0, 0.0), pos2(60.0, 10.0)), 1.0).is_none());
        let png = encode_png(&part).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
