"""The package's layout: a folder named like the package beside a script never hides it; modules stay short."""

import subprocess
import sys
from pathlib import Path


def test_a_folder_named_tagbox_in_the_working_directory_does_not_shadow_the_package(tmp_path):
    # A clone checked out as ./tagbox, and a script run from its parent folder.
    (tmp_path / "tagbox" / "src").mkdir(parents=True)
    (tmp_path / "tagbox" / "README.md").write_text("a clone\n")
    found = subprocess.run([sys.executable, "-c", "import tagbox; print(tagbox.Separator.__name__)"],
                           cwd=tmp_path, capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "Separator"


def test_no_module_of_the_package_runs_past_300_lines():
    package = Path(__file__).resolve().parents[1] / "src" / "tagbox"
    long = {str(path.relative_to(package)): n for path in package.rglob("*.py")
            if (n := len(path.read_text().splitlines())) > 300}
    assert long == {}  # split a module that grows past this (issue 26)
