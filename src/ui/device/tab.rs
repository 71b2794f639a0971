//! What a device page's tab is: an id, a title and a draw function. Each tab's file implements
//! it; the page (`mod.rs`) lists them.

use super::view::DeviceView;
use crate::ui::{UiCommand, ViewContext};

/// One tab of the device page.
pub trait DeviceTab {
    /// A stable name, for egui ids and tests (`"firmware"`).
    fn id(&self) -> &'static str;
    /// The catalogue key of its title (English; shown translated).
    fn title(&self) -> &'static str;
    /// Draws the tab for gateway `page.key`, inside a vertical scroll area.
    fn ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>);
    /// Drawn every frame the page is shown, whichever tab is open: a dialog that waits for the
    /// user (a conformance run's manual step) must not hide behind another tab.
    fn overlay(&mut self, _egui_ctx: &egui::Context, _ctx: &ViewContext) {}
    /// How many new things the user has not seen yet (an alarm raised): shown on the title.
    fn badge(&self, _ctx: &ViewContext, _key: &crate::engine::GatewayKey) -> usize {
        0
    }
}
