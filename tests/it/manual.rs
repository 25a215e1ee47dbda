//! `supportd man` and `supportd completions`, made from the command definitions.

use std::process::Command;

use crate::support::sandbox::BIN;

fn supportd(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().expect("run supportd");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The page is roff for section 1 naming every command; `--dir` writes one page per command,
/// down to `supportd cases escalate`.
#[test]
fn the_manual_lists_every_command_and_a_page_is_written_for_each() {
    let page = supportd(&["man"]);
    assert!(page.contains(".TH supportd 1"), "{page}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH SUBCOMMANDS"] {
        assert!(page.contains(section), "{section} missing");
    }
    for command in ["run", "check-config", "cases", "report", "held", "completions"] {
        assert!(page.contains(&format!("supportd\\-{}(1)", command.replace('-', "\\-"))), "{command} missing");
    }
    let dir = tempfile::tempdir().unwrap();
    let said = supportd(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(said.contains("manual pages written to"), "{said}");
    for file in ["supportd.1", "supportd-cases.1", "supportd-cases-escalate.1", "supportd-report-escalations.1"] {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(text.contains(".TH supportd"), "{file}: {text}");
    }
}

/// Bash loads the completions and completes the commands.
#[test]
fn bash_completes_the_commands() {
    let script = supportd(&["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("supportd.bash");
    std::fs::write(&file, script).unwrap();
    let check = format!(
        "source {}; COMP_WORDS=(supportd ca); COMP_CWORD=1; _supportd supportd ca supportd; echo \"${{COMPREPLY[@]}}\"",
        file.display()
    );
    let out = Command::new("bash").args(["-c", &check]).output().expect("bash");
    let words = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && words.split_whitespace().any(|w| w == "cases"),
        "{words}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for shell in ["zsh", "fish"] {
        assert!(supportd(&["completions", shell]).contains("supportd"), "{shell}");
    }
}
