//! Template errors in the words of someone editing a template. handlebars' own messages are
//! written for its developers (`Failed to access variable in strict mode Some("contact_nam")`,
//! or a list of grammar rules the parser expected).

use handlebars::{RenderErrorReason, TemplateErrorReason};

/// Why a template does not compile.
pub fn compile_error(reason: &TemplateErrorReason) -> String {
    match reason {
        TemplateErrorReason::MismatchingClosedHelper(open, close) => {
            format!("{{{{#{open}}}}} is closed by {{{{/{close}}}}}: close it with {{{{/{open}}}}}")
        }
        TemplateErrorReason::MismatchingClosedDecorator(open, close) => {
            format!("{{{{#*{open}}}}} is closed by {{{{/{close}}}}}: close it with {{{{/{open}}}}}")
        }
        TemplateErrorReason::InvalidSyntax(_) => {
            "not valid Handlebars at or before this point: look for a {{ without its }}, a \
                                                  {{#block}} without its {{/block}}, or a stray { or }"
                .into()
        }
        TemplateErrorReason::InvalidParam(param) => format!("{param:?} is not a valid value for a helper"),
        TemplateErrorReason::NestedSubexpression => "a (subexpression) inside another is not supported".into(),
        other => other.to_string(),
    }
}

/// Why a template fails to render with a sample of the variables its kind gets.
pub fn render_error(reason: &RenderErrorReason, known: &[String]) -> String {
    match reason {
        RenderErrorReason::MissingVariable(Some(name)) => {
            let hint = closest(name, known).map(|k| format!(" (did you mean {{{{{k}}}}}?)")).unwrap_or_default();
            format!("unknown variable {{{{{name}}}}}{hint}: templates/README.md lists what each template gets")
        }
        RenderErrorReason::MissingVariable(None) => {
            "a variable this template does not get: templates/README.md lists what each template gets".into()
        }
        RenderErrorReason::PartialNotFound(name) => {
            format!("no partial {{{{> {name}}}}}: partials are files under templates/partials/")
        }
        RenderErrorReason::HelperNotFound(name) => format!("no helper or variable named {name:?}"),
        RenderErrorReason::TemplateNotFound(name) => format!("no template {name:?}"),
        RenderErrorReason::ParamNotFoundForIndex(helper, i) => {
            format!("{{{{{helper}}}}} needs a value in position {}", i + 1)
        }
        other => other.to_string(),
    }
}

/// The known variable a typo most likely meant: at most a third of its letters off.
fn closest<'a>(name: &str, known: &'a [String]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, k)| *d > 0 && *d * 3 <= k.chars().count().max(3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.as_str())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        ["case_number", "contact_name", "contact_email", "subject"].map(String::from).into()
    }

    #[test]
    fn an_unknown_variable_is_named_plainly_with_the_likely_one() {
        let said = render_error(&RenderErrorReason::MissingVariable(Some("contact_nam".into())), &known());
        assert_eq!(
            said,
            "unknown variable {{contact_nam}} (did you mean {{contact_name}}?): templates/README.md lists what each \
             template gets"
        );
        let far = render_error(&RenderErrorReason::MissingVariable(Some("weather".into())), &known());
        assert!(!far.contains("did you mean"), "{far}");
        assert!(!far.contains("Some("), "{far}");
    }

    #[test]
    fn syntax_errors_say_what_to_look_for_instead_of_grammar_rules() {
        let said = compile_error(&TemplateErrorReason::InvalidSyntax("expected escape, expression".into()));
        assert!(said.starts_with("not valid Handlebars at or before this point"), "{said}");
        let said = compile_error(&TemplateErrorReason::MismatchingClosedHelper("if".into(), "each".into()));
        assert_eq!(said, "{{#if}} is closed by {{/each}}: close it with {{/if}}");
    }

    #[test]
    fn edit_distance_counts_single_changes() {
        assert_eq!(edit_distance("contact_nam", "contact_name"), 1);
        assert_eq!(edit_distance("subjcet", "subject"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
