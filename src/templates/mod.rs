//! Handlebars templates: one file per part (`<kind>.subject.hbs`, `<kind>.txt.hbs`,
//! `<kind>.html.hbs`), shared pieces under `partials/`, overrides under `company/<slug>/`
//! and `mailbox/<name>/`, resolved per file: mailbox, then company, then default.
//! Strict mode: an unknown variable is an error, not an empty string.

mod builtin;
mod context;
mod held_digest;
mod pages;
mod wording;

use std::path::{Path, PathBuf};

use handlebars::Handlebars;

pub use context::{
    AckContext, AgentErrorContext, AlertContext, BriefMessage, BudgetContext, CrmReplyContext, EscalationContext,
    LimitNotes, NotMemberContext, NotifyContext, RegradeContext, RelayContext, ReportContext, ReportHowtoContext,
    ReportSlaLine, ResolutionContext, sample_context,
};

pub use held_digest::{HeldDigestContext, HeldDigestLine};
pub use pages::{
    Budget, CaseLine, CasePage, CaseSection, Clock, Count, KeptMail, ListPage, LivePage, Mailbox, OutboxHealth,
    OutboxLine, PageEscalation, PageEvent, PageMessage, PageSent, Queue,
};

use crate::config::Problems;

/// Message kinds with templates, and the parts each has.
pub const KINDS: &[&str] = &[
    "ack",
    "alert",
    "notify",
    "relay",
    "resolution",
    "agent_error",
    "not_member",
    "budget",
    "report",
    "escalation",
    "held_digest",
    "regrade",
    "report_howto",
    "crm_reply",
];
const PARTS: &[&str] = &["subject", "txt", "html"];

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template {name}: {message}")]
    Render { name: String, message: String },
}

pub struct Templates {
    /// Subject and text parts: values inserted as they are.
    text: Handlebars<'static>,
    /// HTML parts: values HTML-escaped.
    html: Handlebars<'static>,
    /// The web pages' `web/style.css`, served as `/style.css`.
    stylesheet: String,
}

/// Who a message is for, to pick overrides.
#[derive(Debug, Clone, Copy, Default)]
pub struct Audience<'a> {
    pub company_slug: Option<&'a str>,
    pub mailbox: Option<&'a str>,
}

#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Templates {
    /// Compiles every template under `dir`; every problem is reported with file and line.
    pub fn load(dir: &Path) -> Result<Templates, Problems> {
        let mut t =
            Templates { text: registry(false), html: registry(true), stylesheet: builtin::STYLESHEET.to_owned() };
        let mut problems = Problems::default();
        let mut broken = std::collections::HashSet::new();
        let mut files = Vec::new();
        collect_files(dir, &mut files)
            .unwrap_or_else(|e| problems.push("templates.dir", format!("cannot read {}: {e}", dir.display())));
        for file in files {
            let rel = file.strip_prefix(dir).unwrap_or(&file).to_string_lossy().replace('\\', "/");
            if rel == "web/style.css" {
                match std::fs::read_to_string(&file) {
                    Ok(css) => t.stylesheet = css,
                    Err(e) => problems.push("templates/web/style.css", format!("cannot read: {e}")),
                }
                continue;
            }
            let Some(name) = rel.strip_suffix(".hbs") else { continue };
            let source = match std::fs::read_to_string(&file) {
                Ok(s) => s,
                Err(e) => {
                    problems.push(format!("templates/{rel}"), format!("cannot read: {e}"));
                    continue;
                }
            };
            if let Err(e) = t.register(name, &source) {
                let at = e.pos().map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default();
                problems.push(format!("templates/{rel}{at}"), wording::compile_error(e.reason()));
                broken.insert(name.to_owned());
            }
        }
        for (name, source) in builtin::BUILTIN {
            if !t.has(name) && !t.has_partial(name) && !broken.contains(*name) {
                tracing::debug!(template = name, "not in the templates folder: the built-in one applies");
                if let Err(e) = t.register(name, source) {
                    problems.push(format!("built-in {name}"), wording::compile_error(e.reason()));
                }
            }
        }
        for kind in KINDS {
            for part in PARTS {
                let name = format!("{kind}.{part}");
                if !t.has(&name) && !broken.contains(&name) {
                    problems.push(format!("templates/{kind}.{part}.hbs"), "missing");
                }
            }
        }
        for page in pages::PAGES {
            let name = format!("web/{page}.html");
            if !t.has(&name) && !broken.contains(&name) {
                problems.push(format!("templates/{name}.hbs"), "missing");
            }
        }
        // Rendering goes on past syntax errors, so one run reports every problem.
        problems.extend(t.check());
        if problems.is_empty() { Ok(t) } else { Err(problems) }
    }

    fn register(&mut self, name: &str, source: &str) -> Result<(), handlebars::TemplateError> {
        let registry = if name.ends_with(".html") { &mut self.html } else { &mut self.text };
        match name.strip_prefix("partials/") {
            // `partials/signature.txt` is `{{> signature}}` in text parts, and `.html` in HTML parts.
            Some(partial) => {
                let short = partial.rsplit_once('.').map(|(n, _)| n).unwrap_or(partial);
                registry.register_partial(short, source)
            }
            None => registry.register_template_string(name, source),
        }
    }

    fn has(&self, name: &str) -> bool {
        self.text.has_template(name) || self.html.has_template(name)
    }

    /// `partials/signature.html`, registered as the HTML registry's `signature`.
    fn has_partial(&self, name: &str) -> bool {
        let Some(partial) = name.strip_prefix("partials/") else { return false };
        let (short, part) = partial.rsplit_once('.').unwrap_or((partial, ""));
        let registry = if part == "html" { &self.html } else { &self.text };
        registry.has_template(short)
    }

    /// Renders every template and override with a sample holding every documented variable,
    /// so strict mode's unknown-variable errors surface before any mail does.
    fn check(&self) -> Problems {
        let mut problems = Problems::default();
        for registry in [&self.text, &self.html] {
            // Partials are checked through the templates that include them.
            let mut names: Vec<&String> = registry
                .get_templates()
                .keys()
                .filter(|n| PARTS.iter().any(|p| n.ends_with(&format!(".{p}"))))
                .collect();
            names.sort();
            for name in names {
                let kind = name.rsplit('/').next().and_then(|f| f.split('.').next()).unwrap_or_default();
                let (sample, what, known) = match name.strip_prefix("web/") {
                    Some(_) => (pages::sample_page(kind), "page", pages::PAGES),
                    None => (sample_context(kind), "message kind", KINDS),
                };
                let Some(sample) = sample else {
                    problems.push(
                        format!("templates/{name}.hbs"),
                        format!("unknown {what} {kind:?} (known: {})", known.join(", ")),
                    );
                    continue;
                };
                if let Err(e) = registry.render(name, &sample) {
                    let at = e.line_no.map(|l| format!(":{l}:{}", e.column_no.unwrap_or(0))).unwrap_or_default();
                    let known: Vec<String> =
                        sample.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
                    problems.push(format!("templates/{name}.hbs{at}"), wording::render_error(e.reason(), &known));
                }
            }
        }
        problems
    }

    /// Renders the subject, text and HTML parts of `kind` for `who`.
    pub fn render(
        &self,
        kind: &str,
        who: Audience<'_>,
        ctx: &impl serde::Serialize,
    ) -> Result<Rendered, TemplateError> {
        // Serialised once for the three parts (handlebars' `render` would do it per part).
        let data = wrap(kind, ctx)?;
        let part = |part: &str| self.part(kind, part, who, &data);
        // A subject is one line, whatever the template's trailing newline says.
        let subject = crate::domain::text::one_line(&part("subject")?);
        Ok(Rendered { subject, text: part("txt")?, html: part("html")? })
    }

    /// The web page `name` (`live`, `case`): `templates/web/<name>.html.hbs`, HTML-escaped.
    pub fn render_page(&self, name: &str, ctx: &impl serde::Serialize) -> Result<String, TemplateError> {
        let name = format!("web/{name}.html");
        self.html.render(&name, ctx).map_err(|e| TemplateError::Render { name, message: e.to_string() })
    }

    /// The web pages' stylesheet.
    pub fn stylesheet(&self) -> &str {
        &self.stylesheet
    }

    /// The subject alone: what a mail that is kept but never sent needs.
    pub fn render_subject(
        &self,
        kind: &str,
        who: Audience<'_>,
        ctx: &impl serde::Serialize,
    ) -> Result<String, TemplateError> {
        Ok(crate::domain::text::one_line(&self.part(kind, "subject", who, &wrap(kind, ctx)?)?))
    }

    fn part(
        &self,
        kind: &str,
        part: &str,
        who: Audience<'_>,
        data: &handlebars::Context,
    ) -> Result<String, TemplateError> {
        let registry = if part == "html" { &self.html } else { &self.text };
        let name = self.resolve(registry, kind, part, who);
        registry.render_with_context(&name, data).map_err(|e| TemplateError::Render { name, message: e.to_string() })
    }

    fn resolve(&self, registry: &Handlebars<'static>, kind: &str, part: &str, who: Audience<'_>) -> String {
        let candidates = [
            who.mailbox.map(|m| format!("mailbox/{m}/{kind}.{part}")),
            who.company_slug.map(|c| format!("company/{c}/{kind}.{part}")),
        ];
        candidates.into_iter().flatten().find(|n| registry.has_template(n)).unwrap_or_else(|| format!("{kind}.{part}"))
    }
}

fn wrap(kind: &str, ctx: &impl serde::Serialize) -> Result<handlebars::Context, TemplateError> {
    handlebars::Context::wraps(ctx).map_err(|e| TemplateError::Render { name: kind.to_owned(), message: e.to_string() })
}

fn registry(html: bool) -> Handlebars<'static> {
    let mut h = Handlebars::new();
    h.set_strict_mode(true);
    if !html {
        h.register_escape_fn(handlebars::no_escape);
    }
    h
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "hbs") || path.ends_with("web/style.css") {
            out.push(path);
        }
    }
    out.sort();
    Ok(())
}

#[cfg(test)]
mod tests;
