"""How tests/corpus was chosen (run once, by hand; never by the tests).

The sources (README.md) were staged under /tmp/s14corpus from the repositories at the commits listed; the
pdf.js PDFs were labelled by an independent reader (pypdf, see README.md) into pdfjs-oracle.txt, and the old
scanner's verdicts (pdfjs-results.txt) picked every PDF it got wrong. Two labels were then corrected by hand
in manifest.csv: python-pptx/dummy.mp4 is text (reject: not what its name says) and pdfjs/pr6531_2.pdf opens
only with its owner password (reject: password-protected).
"""

import collections
import csv
import os
import random
import shutil
import subprocess
from pathlib import Path

import pypdf  # labelling oracle only (run with /tmp/s14-label)

ROOT = Path(__file__).resolve().parent
FILES = ROOT / "files"
MAXSIZE = 150_000
rows: list[dict[str, str]] = []  # manifest.csv, one row per file


def add(source, src_path, upload_name, expected, category, origin_path):
    data = Path(src_path).read_bytes()
    if len(data) > MAXSIZE or len(data) == 0:
        return
    dest = FILES / source / upload_name
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    rows.append({"file": f"{source}/{upload_name}", "expected": expected, "category": category, "origin": origin_path})


shutil.rmtree(FILES, ignore_errors=True)
# ---- pdf.js (Apache-2.0), commit 0f26334f9d6f96119f6e5164fb65832fbbde7344
oracle = {line.split()[0]: line.split()[1] for line in open("/tmp/s14corpus/pdfjs-oracle.txt")}
results = {line.split()[-1]: line.split()[1] for line in open("/tmp/s14corpus/pdfjs-results.txt")}

names = sorted(oracle)
rng = random.Random(14)
danger = [n for n in names if oracle[n] == "DANGER"]
password = [n for n in names if oracle[n] == "PASSWORD"]
clean = [n for n in names if oracle[n] == "CLEAN"]
empty_pw = []
for n in clean:
    try:
        if pypdf.PdfReader(f"/tmp/s14corpus/pdfjs/{n}").is_encrypted:
            empty_pw.append(n)
    except Exception:
        pass
# every file the old scanner got wrong, then a seeded sample of the rest
wrong_before = [n for n in clean if results.get(n) not in ("clean",) and n != "bug1606566.pdf"]
others = [n for n in clean if n not in wrong_before and n not in empty_pw]
picked_clean = wrong_before + empty_pw + rng.sample(others, 45)
for n in sorted(set(picked_clean)):
    add(
        "pdfjs",
        f"/tmp/s14corpus/pdfjs/{n}",
        n,
        "approve",
        "encrypted-empty-password" if n in empty_pw else "document",
        f"test/pdfs/{n}",
    )
for n in sorted(danger):
    add("pdfjs", f"/tmp/s14corpus/pdfjs/{n}", n, "reject", "active-content", f"test/pdfs/{n}")
for n in sorted(password):
    if n in ("PDFBOX-4352-0.pdf",):
        continue
    add("pdfjs", f"/tmp/s14corpus/pdfjs/{n}", n, "reject", "password-protected", f"test/pdfs/{n}")

# ---- python-oletools (BSD-2-Clause), commit 58ff1a4
OLE = "/tmp/s14corpus/oletools"


def ole_label(name):
    if name.startswith("encrypted_") or name == "basic_encrypted.docx":
        return "reject", "password-protected"
    if name.startswith("excel4-macros"):
        return "reject", "macro"
    if "harmless-clean" in name and not name.endswith(".docm"):
        return "approve", "document"
    if name == "msodde_RTF-Spec-1.7.rtf":
        return "approve", "document"
    if name.startswith("msodde_dde"):
        return "reject", "dde"
    if name.startswith("oleobj_external_link"):
        return "reject", "external-link"
    if name.startswith(("oleobj_", "rtfobj_")):
        return "reject", "embedded-object"
    if name.startswith(("olevba_", "oleform_")) or name.endswith(".docm"):
        return "reject", "macro"
    return None, None


RENAME = {".docm": ".docx", ".xlsm": ".xlsx", ".pptm": ".pptx", ".slk": ".csv"}
for name in sorted(os.listdir(OLE)):
    base, ext = os.path.splitext(name)
    if ext in (".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".rtf", ".csv"):
        upload = name
    elif ext in RENAME:
        upload = f"{base}{ext.replace('.', '-')}{RENAME[ext]}"  # macro-enabled or SYLK, renamed to an allowed extension
    else:
        continue
    expected, category = ole_label(name)
    if ext == ".slk":
        expected, category = "reject", "formula"
    if name == "msodde_dde-in-csv.csv":
        expected, category = "reject", "formula"
    if name == "msodde_harmless-clean.docm":
        expected, category = "reject", "macro"
    if expected:
        origin = (
            "tests/test-data/" + name.replace("_", "/", 1)
            if not name.startswith("oleobj_external_link")
            else "tests/test-data/oleobj/external_link/" + name[len("oleobj_external_link_") :]
        )
        add("oletools", f"{OLE}/{name}", upload, expected, category, origin)


# ---- python-docx / python-pptx (MIT), xlrd (BSD), pillow_heif (BSD-3): harmless documents and images
def pick(source, folder, exts, count, origin_dir, seed=14):
    items = sorted(n for n in os.listdir(folder) if n.lower().endswith(exts))
    random.Random(seed).shuffle(items)
    for n in sorted(items[:count]):
        origin = origin_dir(n)
        add(
            source,
            f"{folder}/{n}",
            n,
            "approve",
            "image" if n.lower().endswith(("png", "jpg", "jpeg", "heic", "mp4")) else "document",
            origin,
        )


def git_path(repo, name, dirs):
    for d in dirs:
        if (
            subprocess.run(
                ["git", "-C", f"/work/.mirror/{repo}/repo", "cat-file", "-e", f"HEAD:{d}/{name}"], capture_output=True
            ).returncode
            == 0
        ):
            return f"{d}/{name}"
    return name


pick(
    "python-docx",
    "/tmp/s14corpus/docx",
    (".docx",),
    22,
    lambda n: git_path("python-openxml+python-docx", n, ["features/steps/test_files", "tests/test_files"]),
)
pick(
    "python-docx",
    "/tmp/s14corpus/docx",
    (".png", ".jpg", ".jpeg"),
    8,
    lambda n: git_path("python-openxml+python-docx", n, ["features/steps/test_files", "tests/test_files"]),
)
pick(
    "python-pptx",
    "/tmp/s14corpus/pptx",
    (".pptx",),
    18,
    lambda n: git_path("scanny+python-pptx", n, ["features/steps/test_files", "tests/test_files"]),
)
pick(
    "python-pptx",
    "/tmp/s14corpus/pptx",
    (".xlsx", ".mp4"),
    3,
    lambda n: git_path("scanny+python-pptx", n, ["features/steps/test_files", "tests/test_files"]),
)
pick("xlrd", "/tmp/s14corpus/xlrd", (".xls", ".xlsx"), 20, lambda n: f"tests/samples/{n}")
pick(
    "pillow-heif",
    "/tmp/s14corpus/heif",
    (".heic", ".png", ".jpeg"),
    30,
    lambda n: git_path(
        "bigcat88+pillow_heif",
        n,
        ["tests/images/heif", "tests/images/non_heif", "tests/images/heif_other", "tests/images/heif_corrupted"],
    ),
)

# ---- ClamAV's own test files (GPL-2.0, Debian clamav-testfiles 1.4.6): clam.exe carried in allowed extensions
CLAM = "/usr/share/clamav-testfiles"
for name, upload in [
    ("clam.exe.mbox.base64", "clam-exe-base64-mail.txt"),
    ("clam.exe.mbox.uu", "clam-exe-uuencode-mail.txt"),
    ("clam.exe.binhex", "clam-exe-binhex.txt"),
    ("clam.exe.html", "clam-exe-html.txt"),
    ("clam.mail", "clam-mail.txt"),
    ("clam.exe.rtf", "clam-exe.rtf"),
    ("clam.ole.doc", "clam-ole.doc"),
    ("clam.pdf", "clam.pdf"),
    ("clam.ppt", "clam.ppt"),
    ("clam.zip", "clam-zip.docx"),
    ("clam.exe", "clam-exe.pdf"),
    ("clam.7z", "clam-7z.xlsx"),
    ("clam.tnef", "clam-tnef.txt"),
]:
    add("clamav", f"{CLAM}/{name}", upload, "reject", "malware", f"/usr/share/clamav-testfiles/{name}")

# labels that the oracle cannot know: heif corrupted/empty/truncated test images are broken files
with open(ROOT / "manifest.csv", "w", newline="") as out:
    writer = csv.DictWriter(out, fieldnames=["file", "expected", "category", "origin"])
    writer.writeheader()
    writer.writerows(sorted(rows, key=lambda r: r["file"]))

print(
    len(rows),
    collections.Counter((r["expected"]) for r in rows),
    collections.Counter(r["file"].split("/")[0] for r in rows),
)
print(sum((FILES / r["file"]).stat().st_size for r in rows))
