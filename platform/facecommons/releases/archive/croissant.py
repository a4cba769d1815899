"""croissant.json: MLCommons Croissant 1.1 with the Responsible-AI (RAI 1.0) vocabulary, filled
from what the platform knows about this version, and per-record provenance fields."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from facecommons.common.tunables import tunables
from facecommons.releases.archive.documents import DocumentContext, fmt_count, site_url

# The standard Croissant 1.1 @context (as mlcroissant writes it): a non-standard one is warned about.
CONTEXT = {
    "@language": "en", "@vocab": "https://schema.org/", "arrayShape": "cr:arrayShape", "citeAs": "cr:citeAs",
    "column": "cr:column", "conformsTo": "dct:conformsTo", "containedIn": "cr:containedIn",
    "cr": "http://mlcommons.org/croissant/", "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"}, "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/", "description": {"@container": "@language"},
    "equivalentProperty": "cr:equivalentProperty", "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract", "field": "cr:field", "fileProperty": "cr:fileProperty", "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet", "format": "cr:format", "includes": "cr:includes", "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset", "jsonPath": "cr:jsonPath", "key": "cr:key", "md5": "cr:md5",
    "name": {"@container": "@language"}, "parentField": "cr:parentField", "path": "cr:path",
    "recordSet": "cr:recordSet", "references": "cr:references", "regex": "cr:regex", "repeated": "cr:repeated",
    "replace": "cr:replace", "samplingRate": "cr:samplingRate", "sc": "https://schema.org/",
    "separator": "cr:separator", "source": "cr:source", "subField": "cr:subField", "transform": "cr:transform",
}


def _fields(ctx: DocumentContext, rs: str) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = []

    def add(name: str, dtype: str, description: str) -> None:
        fields.append({"@type": "cr:Field", "@id": f"{rs}/{name}", "name": name, "description": description,
                       "dataType": dtype,
                       "source": {"fileObject": {"@id": "metadata.parquet"}, "extract": {"column": name}}})

    add("file_name", "sc:Text", "Path of the photo inside the snapshot (split/sha256.jpg).")
    add("split", "sc:Text", "train, validation or test (person-disjoint).")
    add("subject_id", "sc:Text", "Random pseudonymous identifier of the person; stable across snapshots.")
    for key, multiple in ctx.schema:
        if not multiple:
            add(key, "sc:Text", f"Self-declared {key.replace('_', ' ')} (with moderator corrections).")
    add("low_light", "sc:Boolean", "Whether the photo was assessed as low light.")
    add("enhanced", "sc:Boolean", "Provenance: a low-light enhanced copy was used for face detection.")
    add("enhancement_model", "sc:Text", "Provenance: the enhancement model (id@version) when enhanced.")
    add("detector", "sc:Text", "Provenance: the face detector (id@version) that located the face.")
    add("corrected", "sc:Boolean", "Provenance: a moderator corrected the self-declared categories.")
    add("sha256", "sc:Text", "SHA-256 of the image bytes.")
    add("width", "sc:Integer", "Image width in pixels.")
    add("height", "sc:Integer", "Image height in pixels.")
    return fields


def croissant(ctx: DocumentContext) -> str:
    counts, k = ctx.counts, ctx.composition.k
    version, cutoff = ctx.version, ctx.cutoff_at
    site = site_url()
    rs = "photos"
    multi = [key for key, m in ctx.schema if m]
    tools = "; ".join(f"{t} ({fmt_count(n, k)} photos)" for t, n in (counts.get("tools") or {}).items())
    doc = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "name": f"facecommons-{version}",
        "conformsTo": ["http://mlcommons.org/croissant/1.1", "http://mlcommons.org/croissant/RAI/1.0"],
        "description": (f"{settings.SITE_NAME} snapshot {version}: consented face photos with self-declared "
                        f"demographic categories, person-disjoint train/validation/test splits, aligned face crops. "
                        f"Multi-valued categories ({', '.join(multi) or 'none'}) are lists in metadata.parquet."),
        "url": f"{site}/datasets/{version}/",
        "version": version,
        "datePublished": cutoff.date().isoformat(),
        "license": tunables.RELEASES_LICENSE_URL,
        "citeAs": f"{settings.SITE_NAME} contributors. {settings.SITE_NAME} dataset, snapshot {version}. "
                  f"{cutoff:%Y}. {site}/datasets/{version}/",
        "creator": {"@type": "sc:Organization", "name": settings.SITE_NAME, "url": site},
        "keywords": ["face", "fairness", "bias evaluation", "consent", "demographics"],
        "isLiveDataset": False,
        "rai:dataCollection": ("Photos uploaded through the website by adult contributors who accepted the versioned "
                               "consent text, each with self-declared categories. Every photo was checked by an "
                               "automatic pipeline (one face, sharpness, lighting) and approved by human moderators. "
                               "Consent can be withdrawn at any time: the person's files are then deleted from the "
                               "platform and listed in a signed removal manifest that researchers must apply."),
        "rai:dataCollectionType": ["Crowdsourced", "Self-reported", "Manual Human Curation"],
        "rai:dataCollectionTimeframe": [counts.get("collected_from") or cutoff.date().isoformat(),
                                        counts.get("collected_to") or cutoff.date().isoformat()],
        "rai:dataCollectionMissingData": ("Categories a contributor chose not to declare are 'prefer_not_to_say' or "
                                          "empty; face boxes are missing where no face was detected (has_face)."),
        "rai:dataCollectionRawData": "Normalised originals: upright, sRGB, all EXIF/GPS metadata removed.",
        "rai:dataPreprocessingProtocol": ("Originals normalised on upload; low-light photos enhanced only for face "
                                          "detection (the released image is the original); aligned 112 and 224 pixel "
                                          "crops from five landmarks."),
        "rai:dataManipulationProtocol": "Images are released byte for byte as stored; only metadata was removed.",
        "rai:dataAnnotationProtocol": ("Categories are self-declared by the person in the photo; moderators may "
                                       "correct obvious errors, and corrected values are used (column 'corrected')."),
        "rai:dataAnnotationPlatform": f"{settings.SITE_NAME} upload and moderation screens.",
        "rai:dataAnnotationAnalysis": (f"{fmt_count(int(counts.get('corrected', 0)), k)} of "
                                       f"{fmt_count(int(counts.get('photos', 0)), k)} photos had categories corrected "
                                       "by a moderator."),
        "rai:annotationsPerItem": "One self-declaration per photo, reviewed by at least one moderator.",
        "rai:machineAnnotationTools": tools or "none recorded",
        "rai:dataBiases": ("Contributors are volunteers; groups are unevenly represented (see DATASHEET.md for the "
                           "counts). Self-declared categories follow one taxonomy and may not fit everyone. "
                           + ctx.evaluation_findings),
        "rai:dataLimitations": ("Not suitable for identifying people. Small groups have few photos; splits are "
                                "person-disjoint but not balanced within every small intersection."),
        "rai:personalSensitiveInformation": ("Face images are biometric data; categories include ethnicity and "
                                             "gender. Pseudonymous subject ids only; no names, no EXIF/GPS."),
        "rai:dataUseCases": "Measuring and reducing demographic bias of face detection and verification models.",
        "rai:dataSocialImpact": ("Intended to make face models fail less for under-represented groups; misuse for "
                                 "surveillance or identification is forbidden by the data-use agreement."),
        "rai:dataReleaseMaintenancePlan": ("New versioned snapshots are published periodically; each is an immutable "
                                           "manifest. Withdrawals after publication are published as a signed "
                                           f"removal manifest ({site}/api/v1/snapshots/{version}/removals/), "
                                           "acknowledged by every researcher who downloaded the version."),
        "distribution": [{
            "@type": "cr:FileObject", "@id": "metadata.parquet", "name": "metadata.parquet",
            "contentUrl": "metadata.parquet", "encodingFormat": "application/x-parquet",
            "contentSize": f"{ctx.parquet_size} B", "sha256": ctx.parquet_sha256,
        }],
        "recordSet": [{"@type": "cr:RecordSet", "@id": rs, "name": rs,
                       "description": "One record per photo, with its provenance.", "field": _fields(ctx, rs)}],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
