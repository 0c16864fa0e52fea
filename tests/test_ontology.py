"""The ontology (ontology/openness.ttl): header, documentation, OWL 2 RL consistency, agreement with the
component table in loaders/components.py, and coverage of every og: term the code uses."""

from __future__ import annotations

import importlib
import re
import sys
from collections import defaultdict
from pathlib import Path

import owlrl
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF, RDFS

ROOT = Path(__file__).resolve().parents[1]
ONTOLOGY_FILE = ROOT / "ontology" / "openness.ttl"
ONTOLOGY_IRI = URIRef("https://w3id.org/openness-graph/ontology")

SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")  # rdflib's closed XSD warns under pytest collection
DCT = Namespace("http://purl.org/dc/terms/")
VANN = Namespace("http://purl.org/vocab/vann/")
# owlrl writes each inconsistency it finds as `[] a err:ErrorMessage ; err:error "..."` (owlrl/Closure.py).
OWLRL_ERR = Namespace("http://www.daml.org/2002/03/agents/agent-ont#")

TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, SKOS.Concept,
              SKOS.ConceptScheme)
PROPERTY_TYPES = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)


def project_module(name: str):
    """Import a module of this checkout (the project need not be installed for the tests to run)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(name)


@pytest.fixture(scope="module")
def vocab():
    return project_module("loaders.vocab")


@pytest.fixture(scope="module")
def components():
    return project_module("loaders.components")


@pytest.fixture(scope="module")
def onto() -> Graph:
    graph = Graph()
    graph.parse(ONTOLOGY_FILE, format="turtle")
    return graph


@pytest.fixture(scope="module")
def own_namespaces(vocab) -> dict[str, str]:
    """Our term namespaces, by the name of their constant in loaders/vocab.py."""
    names = ("OG", "KIND", "FREEDOM", "RESTRICTION", "REASON", "VERDICT", "DATACLASS", "GRADE", "LICSTATE",
             "AVAIL")
    return {name: str(getattr(vocab, name)) for name in names}


def own_terms(graph: Graph, namespaces) -> dict[URIRef, set[URIRef]]:
    """Our terms (IRIs in our namespaces) typed with one of TERM_TYPES, with those types."""
    terms: dict[URIRef, set[URIRef]] = defaultdict(set)
    for rdf_type in TERM_TYPES:
        for subject in graph.subjects(RDF.type, rdf_type):
            if isinstance(subject, URIRef) and str(subject).startswith(tuple(namespaces)):
                terms[subject].add(rdf_type)
    return terms


def expanded(graph: Graph) -> Graph:
    closure = Graph()
    for triple in graph:
        closure.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
    return closure


def owlrl_errors(closure: Graph) -> list[str]:
    return sorted(str(closure.value(node, OWLRL_ERR.error))
                  for node in closure.subjects(RDF.type, OWLRL_ERR.ErrorMessage))


def typed_nothing(closure: Graph) -> list:
    return sorted(closure.subjects(RDF.type, OWL.Nothing))


@pytest.fixture(scope="module")
def onto_closure(onto) -> Graph:
    return expanded(onto)


# --- 1. header -----------------------------------------------------------------------------------------


def test_ontology_header(onto):
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in onto
    assert onto.value(ONTOLOGY_IRI, OWL.versionIRI) == URIRef("https://w3id.org/openness-graph/ontology/0.1.0")
    assert str(onto.value(ONTOLOGY_IRI, OWL.versionInfo)) == "0.1.0"
    assert onto.value(ONTOLOGY_IRI, DCT.license) == URIRef("http://spdx.org/licenses/CC-BY-4.0")
    assert str(onto.value(ONTOLOGY_IRI, DCT.title)).strip()
    assert str(onto.value(ONTOLOGY_IRI, DCT.description)).strip()
    assert str(onto.value(ONTOLOGY_IRI, DCT.creator)) == "Openness Graph contributors"
    assert str(onto.value(ONTOLOGY_IRI, VANN.preferredNamespacePrefix)) == "og"
    assert str(onto.value(ONTOLOGY_IRI, VANN.preferredNamespaceUri)) == "https://w3id.org/openness-graph/ontology#"
    assert not list(onto.objects(ONTOLOGY_IRI, OWL.imports)), "vocabularies are reused without owl:imports"


def test_namespace_matches_vocab(vocab):
    assert str(vocab.OG) == str(ONTOLOGY_IRI) + "#"


# --- 2. documentation ----------------------------------------------------------------------------------


def test_every_term_is_documented(onto, own_namespaces):
    terms = own_terms(onto, own_namespaces.values())
    problems = []
    for term in sorted(terms):
        labels = list(onto.objects(term, RDFS.label))
        if not labels:
            problems.append(f"{term}: no rdfs:label")
        elif not any(isinstance(label, Literal) and label.language == "en" for label in labels):
            problems.append(f"{term}: no rdfs:label in English")
        if not (set(onto.objects(term, RDFS.comment)) | set(onto.objects(term, SKOS.definition))):
            problems.append(f"{term}: no rdfs:comment or skos:definition")
        if onto.value(term, RDFS.isDefinedBy) != ONTOLOGY_IRI:
            problems.append(f"{term}: rdfs:isDefinedBy is not {ONTOLOGY_IRI}")
        if SKOS.Concept in terms[term] and not onto.value(term, SKOS.definition):
            problems.append(f"{term}: a concept needs a skos:definition")
        if terms[term] & {OWL.Class, *PROPERTY_TYPES} and not onto.value(term, RDFS.comment):
            problems.append(f"{term}: a class or property needs an rdfs:comment")

    counts = {
        "classes": sum(OWL.Class in types for types in terms.values()),
        "object properties": sum(OWL.ObjectProperty in types for types in terms.values()),
        "datatype properties": sum(OWL.DatatypeProperty in types for types in terms.values()),
        "annotation properties": sum(OWL.AnnotationProperty in types for types in terms.values()),
        "concepts": sum(SKOS.Concept in types for types in terms.values()),
        "concept schemes": sum(SKOS.ConceptScheme in types for types in terms.values()),
    }
    print("ontology terms:", ", ".join(f"{n} {what}" for what, n in counts.items()))
    assert not problems, "\n".join(problems)
    assert counts["classes"] >= len(EXPECTED_CLASSES)


def test_og_terms_have_one_kind(onto, vocab):
    """Every og: term is exactly one of class, object, datatype or annotation property (OWL 2 DL/RL)."""
    kinds = (OWL.Class, *PROPERTY_TYPES)
    problems = []
    for subject in set(onto.subjects(RDF.type, None)):
        if isinstance(subject, URIRef) and str(subject).startswith(str(vocab.OG)):
            found = [k for k in kinds if (subject, RDF.type, k) in onto]
            if len(found) != 1:
                problems.append(f"{subject}: {found}")
    assert not problems, "\n".join(problems)


EXPECTED_CLASSES = {
    "ModelFamily", "ModelRelease", "Artifact", "ComponentKind", "License", "Freedom", "RestrictionKind",
    "Restriction", "Definition", "Requirement", "Assessment", "Reason", "VerdictValue", "ReasonKind",
    "DataClass", "IndexGrade", "DimensionGrade", "LicenseState", "Availability", "SourceRecord", "Loader",
    "TrainingDataset",
}
EXPECTED_OBJECT_PROPERTIES = {
    "hasArtifact", "artifactKind", "ofFamily", "sameFamilyAs", "baseModel", "finetunedFrom", "adapterOf",
    "quantizedFrom", "mergedFrom", "producer", "trainedOn", "licenseState", "availability", "licenseDocument",
    "grantsFreedom", "withholdsFreedom", "hasRestriction", "restrictionKind", "dataClass", "hasGrade",
    "indexGrade", "gradedArtifact", "assessedRecord", "definition", "verdict", "hasReason", "requirement",
    "reasonKind", "hasRequirement", "appliesToKind", "shape", "record", "weightsLicense", "countedArtifactKind",
}
EXPECTED_DATATYPE_PROPERTIES = {
    "recordId", "source", "sourceFile", "sourceCommit", "loaderVersion", "licenseStatement",
    "licenseResolvedFrom", "completeComponentList", "modelType", "architectureName", "treatment",
    "huggingFaceId", "indexDimension", "motId", "contentType", "mofClass", "mofRequired", "progressClass1",
    "progressClass2", "progressClass3", "score", "message", "component", "clause", "engineVersion",
    "shapesVersion", "mofOpen", "openDataLicense", "mofContentType", "hfLicenseId", "scancodeKey",
    "monetised", "gatedAccess", "pipelineTag", "libraryName", "definitionId", "requirementId", "resultKind",
    "unmatchedDatasetName", "producerName", "releaseYear", "countedUnit", "count",
}


@pytest.mark.parametrize(("owl_type", "names"), [
    (OWL.Class, EXPECTED_CLASSES),
    (OWL.ObjectProperty, EXPECTED_OBJECT_PROPERTIES),
    (OWL.DatatypeProperty, EXPECTED_DATATYPE_PROPERTIES),
])
def test_expected_terms_are_declared(onto, vocab, owl_type, names):
    missing = sorted(name for name in names if (vocab.OG[name], RDF.type, owl_type) not in onto)
    assert not missing, f"not declared as {owl_type}: {missing}"


def test_reused_vocabularies(onto, vocab):
    og, sub_class, sub_property = vocab.OG, RDFS.subClassOf, RDFS.subPropertyOf
    expected = [
        (og.ModelRelease, sub_class, vocab.FAIR4ML.MLModel),
        (og.ModelRelease, sub_class, vocab.PROV.Entity),
        (og.ModelRelease, SKOS.closeMatch, URIRef("http://www.w3.org/ns/mls#Model")),
        (og.ModelRelease, SKOS.closeMatch, URIRef("https://spdx.org/rdf/3.0.1/terms/AI/AIPackage")),
        (og.Artifact, sub_class, vocab.DCAT.Distribution),
        (og.License, sub_class, vocab.CC.License),
        (og.License, sub_class, vocab.ODRL.Set),
        (og.License, sub_class, DCT.LicenseDocument),
        (og.Assessment, sub_class, vocab.PROV.Entity),
        (og.SourceRecord, sub_class, vocab.PROV.Entity),
        (og.Loader, sub_class, vocab.PROV.SoftwareAgent),
        (og.TrainingDataset, sub_class, vocab.DCAT.Dataset),
        (og.TrainingDataset, sub_class, vocab.SDO.Dataset),
        (og.baseModel, sub_property, vocab.PROV.wasDerivedFrom),
        (og.finetunedFrom, sub_property, og.baseModel),
        (og.adapterOf, sub_property, og.baseModel),
        (og.quantizedFrom, sub_property, og.baseModel),
        (og.mergedFrom, sub_property, og.baseModel),
        (og.finetunedFrom, SKOS.closeMatch, vocab.FAIR4ML.fineTunedFrom),
        (og.producer, sub_property, DCT.publisher),
        (og.trainedOn, sub_property, vocab.FAIR4ML.trainedOn),
        (og.sameFamilyAs, RDF.type, OWL.SymmetricProperty),
        (vocab.FREEDOM.use, SKOS.closeMatch, vocab.ODRL.use),
        (vocab.FREEDOM.modify, SKOS.closeMatch, vocab.CC.DerivativeWorks),
        (vocab.FREEDOM.share, SKOS.closeMatch, vocab.CC.Distribution),
        (vocab.FREEDOM.share, SKOS.closeMatch, vocab.CC.Reproduction),
    ]
    for name in ("ComponentKind", "Freedom", "RestrictionKind", "VerdictValue", "ReasonKind", "DataClass",
                 "IndexGrade", "LicenseState", "Availability"):
        expected.append((og[name], sub_class, SKOS.Concept))
    missing = [triple for triple in expected if triple not in onto]
    assert not missing, "\n".join(" ".join(t.n3() for t in triple) for triple in missing)


QB = Namespace("http://purl.org/linked-data/cube#")


@pytest.fixture(scope="module")
def cube_module():
    return project_module("server.assess.cube")


def test_statistics_cubes_are_declared_as_the_code_writes_them(onto, cube_module):
    """Issue #20: each cube an assessment run writes has its qb:DataStructureDefinition in the ontology, with
    a label and a definition, the dimensions the code writes in the same order plus og:countedUnit, and the
    measure og:count; every component property is a documented og: term typed as a dimension or measure
    property with a declared range (Data Cube IC-4)."""
    og = Namespace("https://w3id.org/openness-graph/ontology#")
    declared = set(onto.subjects(RDF.type, QB.DataStructureDefinition))
    assert declared == {URIRef(cube.structure) for cube in cube_module.CUBES.values()}
    for cube in cube_module.CUBES.values():
        dsd = URIRef(cube.structure)
        assert onto.value(dsd, RDFS.label) and onto.value(dsd, RDFS.comment), dsd
        assert onto.value(dsd, RDFS.isDefinedBy) == ONTOLOGY_IRI
        components = list(onto.objects(dsd, QB.component))
        dimensions = sorted((int(onto.value(c, QB.order)), onto.value(c, QB.dimension)) for c in components
                            if onto.value(c, QB.dimension) is not None)
        measures = [onto.value(c, QB.measure) for c in components if onto.value(c, QB.measure) is not None]
        assert [d for _, d in dimensions] == [URIRef(p) for p, _ in cube.dimensions] + [og.countedUnit], dsd
        assert measures == [og["count"]], dsd
        for prop, kind in (*((d, "dimension") for _, d in dimensions), (og["count"], "measure")):
            expected = QB.DimensionProperty if kind == "dimension" else QB.MeasureProperty
            assert (prop, RDF.type, expected) in onto, prop
            assert onto.value(prop, RDFS.range) is not None, prop
            assert onto.value(prop, RDFS.label) and onto.value(prop, RDFS.comment), prop
            assert onto.value(prop, RDFS.domain) is None, f"{prop}: an observation is not in its domain"


# --- 3. OWL 2 RL consistency ---------------------------------------------------------------------------


def test_owl_rl_closure_is_consistent(onto_closure):
    assert owlrl_errors(onto_closure) == []
    assert typed_nothing(onto_closure) == []


def test_owl_rl_closure_of_sample_data(onto, vocab):
    """A small record in the shape the loaders and the engine write stays consistent and gets the inferences
    the ontology promises (reused superclasses, base-model lineage, symmetric family links)."""
    og, kind, verdict, reason = vocab.OG, vocab.KIND, vocab.VERDICT, vocab.REASON
    ex = Namespace("https://example.org/")
    release, other, base_model = ex["models/mot/A"], ex["models/hf/A"], ex["models/hf/B"]
    artifact, assessment, why = ex["models/mot/A#weights"], ex.a1, ex.r1
    sample = Graph()
    sample.add((release, RDF.type, og.ModelRelease))
    sample.add((release, og.recordId, Literal("mot/A")))
    sample.add((release, og.completeComponentList, Literal(True)))
    sample.add((release, og.hasArtifact, artifact))
    sample.add((release, og.finetunedFrom, base_model))
    sample.add((release, og.sameFamilyAs, other))
    sample.add((artifact, og.artifactKind, kind["model-parameters-final"]))
    sample.add((artifact, og.licenseState, vocab.LICSTATE.licensed))
    sample.add((artifact, DCT.license, vocab.SPDX_LICENSE["Apache-2.0"]))
    sample.add((assessment, og.assessedRecord, release))
    sample.add((assessment, og.verdict, verdict.fail))
    sample.add((assessment, og.hasReason, why))
    sample.add((assessment, og.mofClass, Literal(0)))
    sample.add((assessment, og.progressClass3, Literal("87.5", datatype=XSD.decimal)))
    sample.add((why, og.reasonKind, reason.missing))
    sample.add((why, og.component, Literal("Training code")))
    observation = ex.obs1  # a statistics cube's observation reuses og:definition, og:verdict, og:reasonKind
    sample.add((observation, RDF.type, QB.Observation))
    sample.add((observation, og.definition, ex.osaid))
    sample.add((observation, og.verdict, verdict.fail))
    sample.add((observation, og.reasonKind, reason.missing))
    sample.add((observation, og["count"], Literal(3)))

    closure = expanded(onto + sample)
    assert owlrl_errors(closure) == []
    assert typed_nothing(closure) == []
    assert (release, RDF.type, vocab.FAIR4ML.MLModel) in closure
    assert (release, RDF.type, vocab.PROV.Entity) in closure
    assert (artifact, RDF.type, vocab.DCAT.Distribution) in closure
    assert (release, vocab.PROV.wasDerivedFrom, base_model) in closure
    assert (release, og.baseModel, base_model) in closure
    assert (other, og.sameFamilyAs, release) in closure
    assert (assessment, RDF.type, og.Assessment) in closure
    assert (why, RDF.type, og.Reason) in closure
    assert (observation, RDF.type, og.Assessment) not in closure
    assert (observation, RDF.type, og.Reason) not in closure


def test_owl_rl_check_detects_an_inconsistency(onto, vocab):
    """Control for the two tests above: two verdicts on one assessment contradict og:verdict being
    functional and the verdict values being distinct, and the check must see it."""
    og = vocab.OG
    assessment = URIRef("https://example.org/a1")
    sample = Graph()
    sample.add((assessment, og.verdict, vocab.VERDICT["pass"]))
    sample.add((assessment, og.verdict, vocab.VERDICT.fail))
    assert owlrl_errors(expanded(onto + sample))


# --- 4. component kinds ---------------------------------------------------------------------------------


def test_component_scheme_matches_components_table(onto, vocab, components):
    og = vocab.OG
    scheme = URIRef(str(vocab.KIND))
    declared = set(onto.subjects(RDF.type, og.ComponentKind))
    assert declared == {k.iri for k in components.ALL_KINDS}
    assert len(components.MOF_COMPONENTS) == 17

    mof = set(components.MOF_COMPONENTS)
    for k in components.ALL_KINDS:
        iri = k.iri
        assert (iri, RDF.type, SKOS.Concept) in onto
        assert (iri, SKOS.inScheme, scheme) in onto
        assert [str(x) for x in onto.objects(iri, SKOS.prefLabel)] == [k.name], k.slug
        assert [str(x) for x in onto.objects(iri, SKOS.definition)] == [k.definition], k.slug
        assert [x.toPython() for x in onto.objects(iri, og.motId)] == ([k.mot_id] if k.mot_id else []), k.slug
        assert [str(x) for x in onto.objects(iri, og.contentType)] == (
            [k.content_type] if k.content_type else []), k.slug
        assert [x.toPython() for x in onto.objects(iri, og.mofClass)] == (
            [k.mof_class] if k.mof_class else []), k.slug
        assert [x.toPython() for x in onto.objects(iri, og.mofRequired)] == (
            [k.mof_required] if k in mof else []), k.slug
        for literal in (*onto.objects(iri, og.motId), *onto.objects(iri, og.mofClass)):
            assert literal.datatype == XSD.integer
        for literal in onto.objects(iri, og.mofRequired):
            assert literal.datatype == XSD.boolean

    data_information = vocab.KIND["data-information"]
    narrower = {vocab.KIND[s] for s in ("data-card", "technical-report", "research-paper", "datasets")}
    assert set(onto.objects(data_information, SKOS.narrower)) == narrower
    for iri in narrower:
        assert (iri, SKOS.broader, data_information) in onto


# --- SKOS structure of all concept schemes ---------------------------------------------------------------

EXPECTED_CONCEPTS = {
    "FREEDOM": ("Freedom", {"use", "study", "modify", "share"}),
    "RESTRICTION": ("RestrictionKind", {
        "field-of-use", "user-count-cap", "revenue-cap", "non-commercial", "output-use-restriction",
        "naming-duty", "attribution-duty", "share-alike", "gated-acceptance", "remote-revocation",
        "hosting-restriction", "geographic-restriction", "research-only", "flow-down"}),
    "REASON": ("ReasonKind", {"missing", "unlicensed", "not-open", "restricted", "unknown", "unverified"}),
    "FLAG": ("FlagKind", {"unverified-claim", "conflict", "open-washing", "license-conflict-with-base"}),
    "VERDICT": ("VerdictValue", {"pass", "fail", "insufficient-evidence"}),
    "DATACLASS": ("DataClass", {"open", "public", "obtainable", "unshareable"}),
    "GRADE": ("IndexGrade", {"open", "partial", "closed"}),
    "LICSTATE": ("LicenseState", {"licensed", "unlicensed", "undisclosed", "not-included", "unrecognised"}),
    "AVAIL": ("Availability", {"released", "partial", "not-released"}),
}


@pytest.mark.parametrize("namespace_name", sorted(EXPECTED_CONCEPTS))
def test_concept_scheme(onto, vocab, namespace_name):
    class_name, slugs = EXPECTED_CONCEPTS[namespace_name]
    namespace = str(getattr(vocab, namespace_name))
    scheme = URIRef(namespace)
    assert (scheme, RDF.type, SKOS.ConceptScheme) in onto
    members = set(onto.subjects(RDF.type, vocab.OG[class_name]))
    assert members == {URIRef(namespace + slug) for slug in slugs}
    assert set(onto.objects(scheme, SKOS.hasTopConcept)) == members
    for concept in members:
        assert (concept, RDF.type, SKOS.Concept) in onto
        assert (concept, SKOS.inScheme, scheme) in onto
        assert (concept, SKOS.topConceptOf, scheme) in onto
        assert len([x for x in onto.objects(concept, SKOS.prefLabel) if x.language == "en"]) == 1


def test_every_concept_is_in_its_scheme(onto, own_namespaces):
    """hasTopConcept and topConceptOf agree, and every concept is in the scheme named by its namespace."""
    problems = []
    for concept in onto.subjects(RDF.type, SKOS.Concept):
        namespace = next((ns for ns in own_namespaces.values() if str(concept).startswith(ns)), None)
        if namespace is None:
            continue
        if set(onto.objects(concept, SKOS.inScheme)) != {URIRef(namespace)}:
            problems.append(f"{concept}: skos:inScheme is not <{namespace}>")
        for scheme in onto.objects(concept, SKOS.topConceptOf):
            if (scheme, SKOS.hasTopConcept, concept) not in onto:
                problems.append(f"{concept}: topConceptOf without hasTopConcept")
    for scheme, concept in onto.subject_objects(SKOS.hasTopConcept):
        if (concept, SKOS.topConceptOf, scheme) not in onto:
            problems.append(f"{concept}: hasTopConcept without topConceptOf")
    assert not problems, "\n".join(problems)


# --- 5. every term the code uses is declared --------------------------------------------------------------

SCANNED_DIRS = ("loaders", "server", "shapes")
SCANNED_SUFFIXES = {".py", ".rq", ".ttl"}
CONCEPT_PREFIXES = {  # SPARQL/Turtle prefix (loaders/vocab.py PREFIXES) -> namespace constant
    "kind": "KIND", "freedom": "FREEDOM", "restriction": "RESTRICTION", "reason": "REASON",
    "verdict": "VERDICT", "dataclass": "DATACLASS", "grade": "GRADE", "licstate": "LICSTATE",
    "avail": "AVAIL",
}
LOCAL = r"([A-Za-z_][\w-]*)"
PREFIX_LINE = re.compile(r"^\s*@?prefix\s", re.IGNORECASE)


def terms_in_line(line: str, suffix: str, vocab) -> list[tuple[str, str]]:
    """(namespace IRI, local name) of each of our terms written in one line of a .py, .rq or .ttl file."""
    if PREFIX_LINE.match(line):
        return []
    constants = ["OG", *CONCEPT_PREFIXES.values()]
    attribute = re.compile(rf"\b({'|'.join(constants)})\.{LOCAL}\b(?!\s*\()")
    item = re.compile(rf"\b({'|'.join(constants)})\[\s*[\"']([^\"'\]]+)[\"']\s*\]")
    og_prefixed = re.compile(rf"(?<![\w:/#.-])og:{LOCAL}")
    concept_prefixed = re.compile(rf"(?<![\w:/#.\"'-])({'|'.join(CONCEPT_PREFIXES)}):{LOCAL}")
    og_full = re.compile(rf"{re.escape(str(vocab.OG))}{LOCAL}")

    hits: list[tuple[str, str]] = []
    if suffix == ".py":
        hits += [(str(getattr(vocab, c)), name) for c, name in attribute.findall(line)]
        hits += [(str(getattr(vocab, c)), name) for c, name in item.findall(line)]
    else:  # prefixed concept names ("reason:missing") are only unambiguous outside Python
        hits += [(str(getattr(vocab, CONCEPT_PREFIXES[prefix])), name)
                 for prefix, name in concept_prefixed.findall(line)]
    hits += [(str(vocab.OG), name) for name in og_prefixed.findall(line)]
    hits += [(str(vocab.OG), name) for name in og_full.findall(line)]
    return [(namespace, name.rstrip("-")) for namespace, name in hits]


def used_terms(vocab) -> dict[str, dict[str, set[str]]]:
    """{namespace IRI: {local name: {files}}} for our terms written in source, queries and shapes."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for folder in SCANNED_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in SCANNED_SUFFIXES or not path.is_file() or "__pycache__" in path.parts:
                continue
            rel = str(path.relative_to(ROOT))
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                for namespace, name in terms_in_line(line, path.suffix, vocab):
                    found[namespace][name].add(rel)
    return found


def test_every_used_term_is_declared(onto, vocab):
    og_declared = {s for t in (OWL.Class, *PROPERTY_TYPES) for s in onto.subjects(RDF.type, t)}
    concepts = set(onto.subjects(RDF.type, SKOS.Concept)) | set(onto.subjects(RDF.type, SKOS.ConceptScheme))
    found = used_terms(vocab)
    missing = []
    for namespace, names in sorted(found.items()):
        declared = og_declared if namespace == str(vocab.OG) else concepts
        for name, files in sorted(names.items()):
            if URIRef(namespace + name) not in declared:
                missing.append(f"<{namespace}{name}> used in {', '.join(sorted(files))}")
    print(f"our terms used in {', '.join(SCANNED_DIRS)}: {sum(len(n) for n in found.values())}")
    assert not missing, "terms used but not declared in ontology/openness.ttl:\n" + "\n".join(missing)


def test_usage_scan_finds_the_forms_code_writes_terms_in(vocab):
    """Control for the scan's patterns."""
    og, ns = str(vocab.OG), vocab

    def names(line: str, suffix: str) -> set[tuple[str, str]]:
        return set(terms_in_line(line, suffix, vocab))

    py = 'g.add((x, OG.hasArtifact, OG["artifactKind"])); y = REASON.missing; z = VERDICT["pass"]'
    assert names(py, ".py") == {(og, "hasArtifact"), (og, "artifactKind"), (str(ns.REASON), "missing"),
                                (str(ns.VERDICT), "pass")}
    assert names('q = "SELECT ?v WHERE { ?a og:verdict ?v }"', ".py") == {(og, "verdict")}
    assert names("x = OG.term('foo')", ".py") == set()
    assert names('{"reason":x, "kind": k}', ".py") == set()
    assert names("PREFIX og: <https://w3id.org/openness-graph/ontology#>", ".rq") == set()
    assert names("@prefix kind: <https://w3id.org/openness-graph/kind/> .", ".ttl") == set()
    assert names("  sh:hasValue kind:model-card ; sh:path og:artifactKind .", ".ttl") == {
        (str(ns.KIND), "model-card"), (og, "artifactKind")}
    assert names(f"<{og}licenseState> a x .", ".ttl") == {(og, "licenseState")}
