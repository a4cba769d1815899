import platform
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_platform_is_the_standard_library_module():
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib
    assert callable(platform.python_version)
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_platform_is_stdlib_inside_manage_py():
    out = subprocess.run([sys.executable, "manage.py", "shell", "-v", "0", "-c",
                          "import platform, facecommons; print(platform.__file__); print(platform.system())"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    first = out.stdout.splitlines()[0]
    assert Path(first).resolve().parent == Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert out.stdout.splitlines()[1] == "Linux"


def test_apps_registered_by_full_dotted_path(settings):
    ours = [a for a in settings.INSTALLED_APPS if "facecommons" in a]
    assert ours and all(a.startswith("facecommons.") for a in ours)
