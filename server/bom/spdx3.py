"""A subject as an SPDX 3.0.1 AI BOM (JSON-LD), built with ``spdx-python-model``.

``SpdxDocument`` -> ``software_Sbom`` -> one ``ai_AIPackage`` for the model's final weights, one
``dataset_DatasetPackage`` per training (``trainedOn``) or evaluation (``testedOn``) dataset, every other
artifact as a ``software_Package`` or ``software_File`` with its purpose and its tie to the model. Every package
has exactly one concluded and one declared license: SPDX ids as a ``simplelicensing_LicenseExpression``,
custom licenses as ``expandedlicensing_CustomLicense`` with a link to their text and their use
restrictions, ``NoneLicense`` for "released without a license", ``NoAssertionLicense`` where the record does
not say. The producer is an ``Organization``; each definition's verdict is an ``Annotation`` on the model
(its statement: JSON with the verdict, the failed requirements and the use restrictions behind them).

The AI and Dataset profiles make some fields mandatory that a record may not state; what stands in then,
always said in the element's ``comment``: the package version ``NOASSERTION``; the release time of a model
with no release date is the record's as-of date; a dataset's build and release times are the model's release
time (an upper bound: the data existed when the model was released); a missing producer or publisher is an
``Agent`` named ``NOASSERTION``; a missing download location is the record's IRI.

Element ids are minted under ``Subject.base`` from the graph's IRIs (the model and organizations name their
node in the graph as an ``externalIdentifier``; artifacts and datasets in their ``openness:`` properties), the
document is sorted by id and its creation time comes from the data, so the same record exports to the same
bytes."""

from __future__ import annotations

import json
from datetime import datetime

from spdx_python_model import v3_0_1 as spdx

from loaders import LOADER_VERSION
from loaders import bom_vocab as ov
from loaders.license_names import resolve_license
from server.bom import mapping
from server.bom.subject import Agent, Artifact, Dataset, License, Subject

CONTEXT = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
MEDIA_TYPE = "application/spdx+json"
LICENSE_LIST_VERSION = "3.29.0"  # of data/licenses/spdx_licenses_3.29.0.csv, which the license KB is built from
NO_ASSERTION = "https://spdx.org/rdf/3.0.1/terms/ExpandedLicensing/NoAssertionLicense"
NO_LICENSE = "https://spdx.org/rdf/3.0.1/terms/ExpandedLicensing/NoneLicense"
GRAPH_LICENSE = "CC-BY-4.0"  # of the graph as a whole (catalog)
# "extension" is left out though the document uses it: the 3.0.1 JSON-LD context maps the bare word to the
# property Core/extension, so the profile's name would not read back as the profile
PROFILES = [getattr(spdx.ProfileIdentifierType, p) for p in (
    "core", "software", "simpleLicensing", "expandedLicensing", "ai", "dataset")]
DATA_AVAILABILITY = {"open": "directDownload", "public": "directDownload", "obtainable": "registration"}


def spdx_json(subject: Subject, verdict: dict) -> str:
    """The SPDX 3.0.1 JSON-LD text of the subject's AI BOM (``@context`` is the official URL)."""
    return json.dumps(spdx_document(subject, verdict), ensure_ascii=False, indent=2) + "\n"


def spdx_document(subject: Subject, verdict: dict) -> dict:
    return _Builder(subject).build(verdict)


class _Builder:
    def __init__(self, subject: Subject) -> None:
        self.subject = subject
        self.base = subject.base
        self.created = mapping.created_time(subject)
        self.objects: dict[str, spdx.Element] = {}
        self.creation = spdx.CreationInfo(specVersion="3.0.1", created=self.created,
                                          createdBy=[self._id("creator")], createdUsing=[self._id("tool")])
        self._agents: dict[str, spdx.Agent] = {}
        self._licenses: dict[tuple[str, ...], spdx.Element] = {}
        self._relationship_count: dict[str, int] = {}

    def _id(self, local: str) -> str:
        return f"{self.base}#{local}"

    def _add(self, element: spdx.Element) -> spdx.Element:
        self.objects[element.spdxId] = element
        return element

    def build(self, verdict: dict) -> dict:
        s = self.subject
        self._add(_make(spdx.Organization, spdxId=self._id("creator"), creationInfo=self.creation,
                        name="Openness Graph", comment="Exported from the Openness Graph knowledge graph."))
        self._add(_make(spdx.Tool, spdxId=self._id("tool"), creationInfo=self.creation,
                            name=f"openness-graph {LOADER_VERSION}"))
        model = self._model()
        for art in s.artifacts:
            if art is not s.weights:
                self._artifact(model, art)
        if s.datasets:
            packages = [self._dataset(ds) for ds in s.datasets]
            self._relationship(model, "trainedOn", packages,
                               "Training datasets the graph links this model to (dataset knowledge base).")
        for def_id, result in verdict.get("verdicts", {}).items():
            self._annotation(model, def_id, result)
        elements = [self.objects[k] for k in sorted(self.objects)]
        sbom = _make(spdx.software_Sbom,
            spdxId=self._id("sbom"), creationInfo=self.creation, name=f"AI BOM of {s.name}",
            rootElement=[model], element=elements, software_sbomType=[spdx.software_SbomType.analyzed],
            profileConformance=PROFILES)
        document = _make(spdx.SpdxDocument,
            spdxId=self._id("document"), creationInfo=self.creation, name=f"{s.name} ({s.id}): AI bill of materials",
            rootElement=[sbom], element=[sbom, *elements], profileConformance=PROFILES,
            dataLicense=self._data_license(), comment=_provenance(s))
        return spdx.JSONLDSerializer().serialize_data(spdx.SHACLObjectSet([document, sbom, *elements]))

    # --- the model ----------------------------------------------------------------------------------------

    def _model(self) -> spdx.ai_AIPackage:
        s = self.subject
        weights = s.weights
        location, located = mapping.model_location(s)
        notes = []
        if not s.version:
            notes.append("The record states no version (NOASSERTION).")
        release = mapping.timestamp(s.issued)
        if release is None:
            release = self.created
            notes.append("The record states no release date: the release time given is the date the record is "
                         "as of.")
        if not located:
            notes.append("Nothing in the record locates the weights: the download location is the record.")
        if weights is None:
            notes.append("The record lists no final model parameters: their license is not asserted.")
        elif note := mapping.availability_note(weights):
            notes.append(note)
        properties = mapping.record_properties(s) + (mapping.artifact_properties(weights) if weights else [])
        producer = self._agent(s.producer)
        model = _make(spdx.ai_AIPackage,
            spdxId=self._id("model"), creationInfo=self.creation, name=s.name,
            software_packageVersion=s.version or ov.NOASSERTION, software_downloadLocation=location,
            software_primaryPurpose=spdx.software_SoftwarePurpose.model, releaseTime=release,
            suppliedBy=producer, originatedBy=[producer], description=weights.description if weights else None,
            summary=s.note, comment=" ".join(notes) or None,
            software_homePage=(s.landing_pages or [None])[0],
            software_packageUrl=f"pkg:huggingface/{s.hf_id}" if s.hf_id else None,
            ai_typeOfModel=[s.architecture] if s.architecture else [],
            ai_domain=[s.model_type] if s.model_type else [],
            externalIdentifier=[_graph_identifier(s.iri, "the record in the Openness Graph")],
            extension=[_properties(properties)])
        self._add(model)
        self._licenses_of(model, weights)
        return model

    def _artifact(self, model: spdx.ai_AIPackage, art: Artifact) -> None:
        s = self.subject
        role = mapping.role(art.kind)
        if role.spdx_class == "dataset":
            element = self._dataset_artifact(art)
        else:
            common = {"spdxId": self._id("artifact-" + mapping.local_name(art.iri)), "creationInfo": self.creation,
                      "name": mapping.component_title(s, art), "description": art.description,
                      "comment": mapping.availability_note(art),
                      "software_primaryPurpose": getattr(spdx.software_SoftwarePurpose, role.purpose),
                      "suppliedBy": self._agent(s.producer),
                      "extension": [_properties(mapping.artifact_properties(art))]}
            if role.spdx_class == "file":
                element = _make(spdx.software_File, **common, externalRef=[_make(
                    spdx.ExternalRef, externalRefType=spdx.ExternalRefType.altDownloadLocation,
                    locator=art.access_urls)] if art.access_urls else [])
            else:
                element = _make(spdx.software_Package, **common,
                                software_downloadLocation=(art.access_urls or [None])[0])
            self._add(element)
            self._licenses_of(element, art)
        relationship, direction = role.relationship
        if art.kind == "model-parameters-final" and art.dimension != "weights_basemodel":
            relationship = "other"  # a second final release of the same record: related, not descended
        if direction == "out":
            self._relationship(model, relationship, [element])
        else:
            self._relationship(element, relationship, [model])

    def _dataset_artifact(self, art: Artifact) -> spdx.dataset_DatasetPackage:
        s = self.subject
        producer = self._agent(s.producer)
        built, note = self._dataset_times()
        location = (art.access_urls or [None])[0]
        notes = [n for n in (mapping.availability_note(art), note) if n]
        if location is None:
            location = art.iri
            notes.append("Nothing in the record locates this data: the download location is the record's artifact.")
        element = _make(spdx.dataset_DatasetPackage,
            spdxId=self._id("artifact-" + mapping.local_name(art.iri)), creationInfo=self.creation,
            name=mapping.component_title(s, art), description=art.description, comment=" ".join(notes),
            software_primaryPurpose=spdx.software_SoftwarePurpose.data, software_downloadLocation=location,
            builtTime=built, releaseTime=built, originatedBy=[producer], suppliedBy=producer,
            dataset_datasetType=[spdx.dataset_DatasetType.noAssertion],
            extension=[_properties(mapping.artifact_properties(art))])
        self._add(element)
        self._licenses_of(element, art)
        return element

    def _dataset_times(self) -> tuple[datetime, str]:
        release = mapping.timestamp(self.subject.issued) or self.created
        return release, ("Build and release times are not recorded: the model's release time stands in (the "
                         "data existed by then).")

    def _dataset(self, ds: Dataset) -> spdx.dataset_DatasetPackage:
        publisher = self._agent(ds.publisher)
        built, note = self._dataset_times()
        location = mapping.dataset_location(ds)
        notes = [note]
        if ds.data_class_reason:
            notes.insert(0, f"OSAID data class {ds.data_class}: {ds.data_class_reason}")
        if ds.status:
            notes.append(f"Status: {ds.status}.")
        if location is None:
            location = ds.iri
            notes.append("No download location is recorded: the location given is the dataset in the graph.")
        availability = None if ds.status in ("withdrawn", "not-released") else \
            "clickthrough" if ds.status == "gated" else DATA_AVAILABILITY.get(ds.data_class or "")
        element = _make(spdx.dataset_DatasetPackage,
            spdxId=self._id("dataset-" + (ds.id or mapping.local_name(ds.iri))), creationInfo=self.creation,
            name=ds.title, comment=" ".join(notes), software_primaryPurpose=spdx.software_SoftwarePurpose.data,
            software_downloadLocation=location, builtTime=built, releaseTime=built, originatedBy=[publisher],
            suppliedBy=publisher, dataset_datasetType=[spdx.dataset_DatasetType.noAssertion],
            dataset_datasetAvailability=getattr(spdx.dataset_DatasetAvailabilityType, availability)
            if availability else None,
            extension=[_properties(mapping.dataset_properties(ds))])
        self._add(element)
        target = self._license_element(tuple(ds.licenses), None) if ds.licenses else NO_ASSERTION
        self._relationship(element, "hasDeclaredLicense", [target])
        self._relationship(element, "hasConcludedLicense", [target])
        return element

    # --- agents, licenses, relationships, annotations -------------------------------------------------------

    def _agent(self, agent: Agent | None) -> spdx.Agent:
        key = agent.iri if agent else "noassertion"
        found = self._agents.get(key)
        if found is not None:
            return found
        if agent is None:
            found = _make(spdx.Agent, spdxId=self._id("agent-noassertion"), creationInfo=self.creation,
                               name=ov.NOASSERTION, comment="The record does not name this party.")
        else:
            found = _make(spdx.Organization,
                spdxId=self._id("agent-" + mapping.local_name(agent.iri)), creationInfo=self.creation, name=agent.name,
                externalIdentifier=[_graph_identifier(agent.iri, "the organization in the Openness Graph")],
                externalRef=[_make(spdx.ExternalRef, externalRefType=spdx.ExternalRefType.altWebPage,
                                              locator=[agent.homepage])] if agent.homepage else [])
        self._agents[key] = self._add(found)
        return found

    def _licenses_of(self, element: spdx.Element, art: Artifact | None) -> None:
        """Exactly one declared and one concluded license, as the AI and Dataset profiles require."""
        if art is None:
            target, said = NO_ASSERTION, None
        elif art.licenses:
            target, said = self._license_element(tuple(art.licenses), art.statement), art.statement
        elif art.state == "unlicensed":
            target, said = NO_LICENSE, art.statement
        else:
            target, said = NO_ASSERTION, art.statement
        declared = f"As the source states it: {said!r}." if said else None
        self._relationship(element, "hasDeclaredLicense", [target], declared)
        self._relationship(element, "hasConcludedLicense", [target],
                           "Resolved by the Openness Graph license knowledge base." if art and art.licenses else None)

    def _license_element(self, iris: tuple[str, ...], statement: str | None) -> spdx.Element:
        """A license element for an artifact's licenses: the custom license itself when it is one, else a
        license expression (the statement's own expression when it names the same licenses, so ``OR`` stays
        ``OR``; else all of them joined with ``AND``) whose custom ids point at their CustomLicense elements."""
        licenses = [self.subject.license(iri) for iri in iris]
        expression = " AND ".join(sorted(lic.id for lic in licenses))
        if statement:
            resolved = resolve_license(statement)
            if resolved.expression and sorted(resolved.iris) == sorted(iris):
                expression = resolved.expression
        key = (expression,)
        if key in self._licenses:
            return self._licenses[key]
        custom = [lic for lic in licenses if not lic.listed]
        if len(licenses) == 1 and custom:
            element = self._custom_license(custom[0])
        else:
            element = self._add(_make(spdx.simplelicensing_LicenseExpression,
                spdxId=self._id("license-" + mapping.local_name(expression.replace(" ", "-"))),
                creationInfo=self.creation, simplelicensing_licenseExpression=expression,
                simplelicensing_licenseListVersion=LICENSE_LIST_VERSION if len(custom) < len(licenses) else None,
                simplelicensing_customIdToUri=[spdx.DictionaryEntry(key=lic.id, value=self._custom_license(lic).spdxId)
                                               for lic in sorted(custom, key=lambda x: x.id)]))
        self._licenses[key] = element
        return element

    def _custom_license(self, lic: License) -> spdx.expandedlicensing_CustomLicense:
        spdx_id = self._id("license-" + lic.id)
        if spdx_id in self.objects:
            return self.objects[spdx_id]
        text = (f"The text of the {lic.name} is not reproduced in this document; read it at {lic.urls[0]}."
                if lic.urls else f"The text of the {lic.name} is not recorded in the Openness Graph.")
        restrictions = "; ".join(r.text() for r in lic.restrictions)
        element = _make(spdx.expandedlicensing_CustomLicense,
            spdxId=spdx_id, creationInfo=self.creation, name=lic.name, simplelicensing_licenseText=text,
            expandedlicensing_seeAlso=lic.urls, expandedlicensing_isOsiApproved=lic.osi,
            expandedlicensing_isFsfLibre=lic.fsf,
            comment=f"{lic.id}. Use restrictions (Openness Graph license knowledge base): {restrictions}."
            if restrictions else lic.id)
        return self._add(element)

    def _relationship(self, source: spdx.Element, kind: str, targets: list, comment: str | None = None) -> None:
        local = source.spdxId.rsplit("#", 1)[-1]
        key = f"{local}-{kind}"
        count = self._relationship_count[key] = self._relationship_count.get(key, 0) + 1
        self._add(_make(spdx.Relationship,
            spdxId=self._id(f"relationship-{key}" + (f"-{count}" if count > 1 else "")), creationInfo=self.creation,
            from_=source, to=targets, relationshipType=getattr(spdx.RelationshipType, kind), comment=comment))

    def _annotation(self, model: spdx.ai_AIPackage, def_id: str, result: dict) -> None:
        summary = mapping.verdict_summary(def_id, result, self.subject)
        self._add(_make(spdx.Annotation,
            spdxId=self._id(f"verdict-{def_id}"), creationInfo=self.creation,
            annotationType=spdx.AnnotationType.review, subject=model, contentType="application/json",
            statement=json.dumps(summary, ensure_ascii=False, sort_keys=True)))

    def _data_license(self) -> spdx.Element:
        ids = {GRAPH_LICENSE}
        if self.subject.data_license:
            ids.add(self.subject.license(self.subject.data_license).id)
        expression = " AND ".join(sorted(ids))
        return self._add(_make(spdx.simplelicensing_LicenseExpression,
            spdxId=self._id("data-license"), creationInfo=self.creation,
            simplelicensing_licenseExpression=expression, simplelicensing_licenseListVersion=LICENSE_LIST_VERSION,
            comment="License of this document's data: the source's and the Openness Graph's."))


def _make(cls, **fields):
    """An spdx-python-model object from the fields that have a value (its setters refuse None)."""
    return cls(**{k: v for k, v in fields.items() if v is not None and v != []})


def _graph_identifier(iri: str, what: str) -> spdx.ExternalIdentifier:
    return _make(spdx.ExternalIdentifier, externalIdentifierType=spdx.ExternalIdentifierType.urlScheme, identifier=iri,
                                   comment=what)


def _properties(pairs: list[tuple[str, str]]) -> spdx.extension_CdxPropertiesExtension:
    return spdx.extension_CdxPropertiesExtension(extension_cdxProperty=[
        spdx.extension_CdxPropertyEntry(extension_cdxPropName=name, extension_cdxPropValue=value)
        for name, value in pairs])


def _provenance(subject: Subject) -> str:
    parts = [f"The record {subject.id} of the Openness Graph"]
    if subject.upstream:
        parts.append(f"loaded from {subject.upstream}")
    elif subject.source_file:
        parts.append(f"loaded from {subject.source_file}")
    return ", ".join(parts) + "."
