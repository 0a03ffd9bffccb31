//! The dashboard's keys in one table: what each key does in each phase and panel, its hint
//! in the status bar and its line in the help screen. The key handling (`App::on_key`), the
//! status bar and the help popup all read [`KEYS`], so a key is added or changed here alone.
//! (The quit prompt's own keys are the prompt's: ↑↓ choose, Enter confirm, Esc cancel.)

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::phase::{Panel, Phase};

/// What the keys depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyState {
    /// Where the run stands.
    pub phase: Phase,
    /// The panel shown.
    pub panel: Panel,
    /// A setting is being edited as text.
    pub editing: bool,
    /// The last save failed and the run waits for `s` or `q`.
    pub save_failed: bool,
}

/// What a key asks of the dashboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Hand the key to the setup form (select, change, edit a setting).
    Form,
    /// Start the run with the form's settings.
    Start,
    /// Pause after the current batch, or go on.
    TogglePause,
    /// Save a checkpoint after the current batch.
    Save,
    /// Quit, or while training ask how (the quit prompt).
    Quit,
    /// Save and stop (twice: quit at once).
    Interrupt,
    /// Next panel (tab) or previous one (shift-tab).
    SwitchPanel,
    /// Scroll the panel shown: its table or its log.
    Scroll,
    /// Open the help screen.
    Help,
}

/// A key (or a group of keys with one meaning) of the dashboard.
pub struct Key {
    /// The keys as the help screen writes them.
    pub label: &'static str,
    /// The help screen's line.
    pub help: &'static str,
    codes: &'static [KeyCode],
    /// With Ctrl held.
    ctrl: bool,
    /// What it does, in the first state that matches.
    uses: &'static [Use],
}

/// One use of a key: in which states, what it does, and its status-bar hint.
struct Use {
    when: fn(&KeyState) -> bool,
    action: Action,
    /// The hint's place in the status bar (left to right) and its text.
    hint: Option<(u8, &'static str)>,
}

const fn in_state(when: fn(&KeyState) -> bool, action: Action, hint: Option<(u8, &'static str)>) -> Use {
    Use { when, action, hint }
}

fn editing(s: &KeyState) -> bool {
    s.editing
}
fn not_editing(s: &KeyState) -> bool {
    !s.editing
}
fn setup_form(s: &KeyState) -> bool {
    s.phase == Phase::Setup && s.panel == Panel::Setup && !s.editing
}
fn setup_other_panel(s: &KeyState) -> bool {
    s.phase == Phase::Setup && s.panel != Panel::Setup
}
fn setup(s: &KeyState) -> bool {
    s.phase == Phase::Setup && !s.editing
}
fn running(s: &KeyState) -> bool {
    matches!(s.phase, Phase::Starting | Phase::Running)
}
fn paused(s: &KeyState) -> bool {
    s.phase == Phase::Paused && !s.save_failed
}
fn save_failed(s: &KeyState) -> bool {
    s.phase == Phase::Paused && s.save_failed
}
fn stopping(s: &KeyState) -> bool {
    s.phase == Phase::Stopping
}
fn done(s: &KeyState) -> bool {
    matches!(s.phase, Phase::Finished | Phase::Failed)
}
fn scrollable(s: &KeyState) -> bool {
    !s.editing && !setup_form(s)
}
fn scroll_hinted(s: &KeyState) -> bool {
    scrollable(s) && !save_failed(s) && !stopping(s)
}
fn help_hinted(s: &KeyState) -> bool {
    !s.editing && !stopping(s)
}

use Action::*;

/// Every key of the dashboard, in the help screen's order.
pub const KEYS: &[Key] = &[
    Key {
        label: "Enter",
        help: "start training (setup screen)",
        codes: &[KeyCode::Enter],
        ctrl: false,
        uses: &[
            in_state(editing, Form, Some((1, "Enter keep"))),
            in_state(setup_form, Start, Some((3, "Enter start"))),
            in_state(setup_other_panel, Start, Some((0, "Enter start"))),
        ],
    },
    Key {
        label: "space / p",
        help: "pause or resume after the current batch",
        codes: &[KeyCode::Char(' '), KeyCode::Char('p')],
        ctrl: false,
        uses: &[
            in_state(running, TogglePause, Some((0, "space pause"))),
            in_state(paused, TogglePause, Some((0, "space resume"))),
            in_state(save_failed, TogglePause, Some((1, "space go on without saving"))),
            in_state(not_editing, TogglePause, None),
        ],
    },
    Key {
        label: "s",
        help: "save a checkpoint after the current batch",
        codes: &[KeyCode::Char('s')],
        ctrl: false,
        uses: &[
            in_state(running, Save, Some((1, "s save"))),
            in_state(paused, Save, Some((1, "s save"))),
            in_state(save_failed, Save, Some((0, "s try again"))),
            in_state(not_editing, Save, None),
        ],
    },
    Key {
        label: "q",
        help: "stop: save and stop / quit without saving / cancel",
        codes: &[KeyCode::Char('q')],
        ctrl: false,
        uses: &[
            in_state(setup, Quit, Some((9, "q quit"))),
            in_state(running, Quit, Some((2, "q stop"))),
            in_state(paused, Quit, Some((2, "q stop"))),
            in_state(save_failed, Quit, Some((2, "q quit"))),
            in_state(done, Quit, Some((0, "q quit"))),
            in_state(not_editing, Quit, None),
        ],
    },
    Key {
        label: "Esc",
        help: "close a prompt",
        codes: &[KeyCode::Esc],
        ctrl: false,
        uses: &[in_state(editing, Form, Some((2, "Esc cancel")))],
    },
    Key {
        label: "tab / shift-tab",
        help: "next / previous panel",
        codes: &[KeyCode::Tab, KeyCode::BackTab],
        ctrl: false,
        uses: &[in_state(not_editing, SwitchPanel, Some((4, "tab panel")))],
    },
    Key {
        label: "↑ ↓ PgUp PgDn",
        help: "scroll the model table or the log",
        codes: &[KeyCode::Up, KeyCode::Down, KeyCode::PageUp, KeyCode::PageDown, KeyCode::Home],
        ctrl: false,
        uses: &[in_state(scroll_hinted, Scroll, Some((5, "↑↓ scroll"))), in_state(scrollable, Scroll, None)],
    },
    Key {
        label: "↑ ↓ ← →",
        help: "setup: select a setting, change it",
        codes: &[KeyCode::Up, KeyCode::Down, KeyCode::Left, KeyCode::Right],
        ctrl: false,
        uses: &[in_state(setup_form, Form, Some((0, "↑↓ select · ←→ change")))],
    },
    Key {
        label: "e",
        help: "setup: edit the selected setting as text",
        codes: &[KeyCode::Char('e')],
        ctrl: false,
        uses: &[in_state(setup_form, Form, Some((2, "e edit")))],
    },
    Key {
        label: "Ctrl-C",
        help: "save and stop (twice: quit at once)",
        codes: &[KeyCode::Char('c')],
        ctrl: true,
        uses: &[in_state(|_| true, Interrupt, None)],
    },
    Key {
        label: "?",
        help: "this help",
        codes: &[KeyCode::Char('?')],
        ctrl: false,
        uses: &[in_state(help_hinted, Help, Some((6, "? help")))],
    },
];

/// What `key` does in `state`: the first use of the first key that matches. Keys the
/// table does not bind go to the setup form while it takes them (its text input), and do
/// nothing elsewhere.
pub fn action(key: KeyEvent, state: &KeyState) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let bound = KEYS
        .iter()
        .filter(|k| k.ctrl == ctrl && k.codes.contains(&key.code))
        .find_map(|k| k.uses.iter().find(|u| (u.when)(state)))
        .map(|u| u.action);
    bound.or((state.editing || setup_form(state)).then_some(Form))
}

/// The status bar's hints in `state`, left to right: `space pause · s save · ...`.
pub fn hints(state: &KeyState) -> String {
    let mut shown: Vec<(u8, &str)> = Vec::new();
    if state.editing {
        shown.push((0, "type"));
    }
    for key in KEYS {
        if let Some(hint) = key.uses.iter().find(|u| (u.when)(state)).and_then(|u| u.hint) {
            shown.push(hint);
        }
    }
    shown.sort_by_key(|(place, _)| *place);
    shown.iter().map(|(_, text)| *text).collect::<Vec<_>>().join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(phase: Phase, panel: Panel) -> KeyState {
        KeyState { phase, panel, editing: false, save_failed: false }
    }

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn the_status_bar_hints_each_state_from_the_table() {
        let setup = state(Phase::Setup, Panel::Setup);
        assert_eq!(
            hints(&setup),
            "↑↓ select · ←→ change · e edit · Enter start · tab panel · ? help · q quit"
        );
        assert_eq!(hints(&KeyState { editing: true, ..setup }), "type · Enter keep · Esc cancel");
        assert_eq!(
            hints(&state(Phase::Setup, Panel::Model)),
            "Enter start · tab panel · ↑↓ scroll · ? help · q quit"
        );
        let running = state(Phase::Running, Panel::Training);
        assert_eq!(hints(&running), "space pause · s save · q stop · tab panel · ↑↓ scroll · ? help");
        let paused = state(Phase::Paused, Panel::Model);
        assert_eq!(hints(&paused), "space resume · s save · q stop · tab panel · ↑↓ scroll · ? help");
        assert_eq!(
            hints(&KeyState { save_failed: true, ..paused }),
            "s try again · space go on without saving · q quit · tab panel · ? help"
        );
        assert_eq!(hints(&state(Phase::Stopping, Panel::Training)), "tab panel");
        assert_eq!(
            hints(&state(Phase::Finished, Panel::Training)),
            "q quit · tab panel · ↑↓ scroll · ? help"
        );
    }

    #[test]
    fn keys_act_by_phase_and_panel() {
        let setup = state(Phase::Setup, Panel::Setup);
        let running = state(Phase::Running, Panel::Model);
        // ↑ selects a setting on the form and scrolls elsewhere.
        assert_eq!(action(press(KeyCode::Up), &setup), Some(Form));
        assert_eq!(action(press(KeyCode::Up), &running), Some(Scroll));
        // Digits start editing on the form (its text input), and do nothing while training.
        assert_eq!(action(press(KeyCode::Char('7')), &setup), Some(Form));
        assert_eq!(action(press(KeyCode::Char('7')), &running), None);
        // While editing, every key is text but Ctrl-C.
        let editing = KeyState { editing: true, ..setup };
        assert_eq!(action(press(KeyCode::Char('q')), &editing), Some(Form));
        assert_eq!(
            action(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL), &editing),
            Some(Interrupt)
        );
        assert_eq!(action(press(KeyCode::Char('s')), &running), Some(Save));
        assert_eq!(action(press(KeyCode::Enter), &state(Phase::Setup, Panel::Training)), Some(Start));
        assert_eq!(action(press(KeyCode::Enter), &running), None);
    }

    #[test]
    fn the_help_screen_has_one_line_per_key_of_the_table() {
        let labels: Vec<&str> = KEYS.iter().map(|k| k.label).collect();
        assert_eq!(labels.len(), 11);
        assert!(labels.contains(&"s") && KEYS.iter().all(|k| !k.help.is_empty()));
    }
}
