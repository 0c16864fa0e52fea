"""The openness definitions and their requirements, as data: one table that the assessment engine
evaluates, the SHACL shapes are generated from, and the graph describes (so SPARQL can ask which
requirement fails most often). Each requirement cites the clause it encodes."""

from __future__ import annotations

from dataclasses import dataclass

import rdflib
from rdflib import RDF, RDFS, XSD, Literal, URIRef

from loaders.components import BY_SLUG
from loaders.vocab import DCT, DEFN, OG, SH, STATIC

SHAPES_VERSION = "0.2.0"
ENGINE_VERSION = "0.7.0"  # of server.assess.engine and the stored verdicts' shape: part of every run's digest


@dataclass(frozen=True)
class Definition:
    id: str
    title: str
    result: str  # "binary", "class" or "score"
    url: str
    description: str

    @property
    def iri(self) -> URIRef:
        return DEFN[self.id]


@dataclass(frozen=True)
class Requirement:
    """One requirement. ``kinds``: artifact kinds that satisfy it (any one suffices). ``test``: what the
    artifact's license must do (see assessment.LICENSE_TESTS). ``if_used``: absence is no failure (the
    definition asks for it only "if used"). ``scope``: "artifact" (license/presence of kinds), or a
    record-level check named by ``test``."""

    definition: str
    id: str
    kinds: tuple[str, ...]
    test: str
    clause: str
    message: str
    if_used: bool = False
    scope: str = "artifact"

    @property
    def iri(self) -> URIRef:
        return URIRef(f"{DEFN}{self.definition}/{self.id}")

    @property
    def shape_iri(self) -> URIRef:
        return URIRef(f"{STATIC}shapes/{self.definition}#{self.id}")

    @property
    def release_shape_iri(self) -> URIRef:
        """The shape of this requirement over a release's merged evidence (consolidated verdicts)."""
        return URIRef(f"{STATIC}shapes/{self.definition}#release-{self.id}")

    @property
    def component(self) -> str:
        return " / ".join(BY_SLUG[k].name for k in self.kinds)


DEFINITIONS: tuple[Definition, ...] = (
    Definition("osaid-1.0", "OSI Open Source AI Definition 1.0", "binary",
               "https://opensource.org/ai/open-source-ai-definition",
               "Data information, code and parameters available under OSI-approved terms granting the freedoms "
               "to use, study, modify and share."),
    Definition("mof-1.0", "Model Openness Framework 1.0 (as the Model Openness Tool computes it)", "class",
               "https://arxiv.org/abs/2403.13784",
               "Three cumulative classes over 17 components, each counted only if included under an open license."),
    Definition("owd-0.3", "Open Weight Definition, draft 0.3 (Open Source Alliance)", "binary",
               "https://openweight.org/",
               "The weights' distribution terms meet ten OSD-style criteria; no source or data required."),
    Definition("fsf-free-ml", "FSF criteria for free machine-learning applications (2024)", "binary",
               "https://www.fsf.org/news/fsf-is-working-on-freedom-in-machine-learning-applications",
               "All software, training data with its processing scripts, and the parameters respect the four "
               "freedoms."),
    Definition("eu-ai-act-foss", "EU AI Act Art. 53(2) free and open-source GPAI conditions", "binary",
               "https://eur-lex.europa.eu/eli/reg/2024/1689/oj",
               "Weights, architecture and usage information public under a licence allowing access, use, "
               "modification and redistribution; not monetised."),
    Definition("osai-index", "European Open Source AI Index (12 graded dimensions)", "score",
               "https://osai-index.eu/",
               "Open = 1, partial = 0.5, closed = 0 over twelve dimensions, unweighted mean."),
)
BY_ID = {d.id: d for d in DEFINITIONS}

_OSAID = "OSAID 1.0, 'Preferred form to make modifications'"
REQUIREMENTS: tuple[Requirement, ...] = (
    # --- OSAID 1.0 -------------------------------------------------------------------------------------
    Requirement("osaid-1.0", "data-information-osi-terms",
                ("data-card", "technical-report", "research-paper", "datasets"), "osi-terms",
                f"{_OSAID}, Data Information: 'shall be made available under OSI-approved terms' (the OSAID "
                "checklist lets Datasets, Research paper, Technical report or Data card stand for it)",
                "Data Information (a data card, technical report, research paper or the datasets) must be "
                "available under OSI-approved terms"),
    Requirement("osaid-1.0", "training-code-osi-license", ("training-code",), "osi-license",
                f"{_OSAID}, Code: 'The complete source code used to train and run the system ... under "
                "OSI-approved licenses'", "Training code must be available under an OSI-approved license"),
    Requirement("osaid-1.0", "inference-code-osi-license", ("inference-code",), "osi-license",
                f"{_OSAID}, Code: 'used to train and run the system' ... 'inference code'",
                "Inference code must be available under an OSI-approved license"),
    Requirement("osaid-1.0", "architecture-osi-license", ("model-architecture",), "osi-license",
                f"{_OSAID}, Code: '... and model architecture'; an AI model 'consists of the model "
                "architecture, model parameters (including weights) and inference code'",
                "Model architecture code must be available under an OSI-approved license"),
    Requirement("osaid-1.0", "data-processing-code-osi-license", ("data-preprocessing-code",), "osi-license",
                f"{_OSAID}, Code: 'if used, this must include code used for processing and filtering data'",
                "Data processing code, if used, must be available under an OSI-approved license", if_used=True),
    Requirement("osaid-1.0", "supporting-libraries-osi-license", ("supporting-libraries",), "osi-license",
                f"{_OSAID}, Code: 'if used ... supporting libraries like tokenizers and hyperparameters "
                "search code'", "Supporting libraries, if used, must be available under an OSI-approved license",
                if_used=True),
    Requirement("osaid-1.0", "evaluation-code-osi-license", ("evaluation-code",), "osi-license",
                f"{_OSAID}, Code: 'if used ... validation and testing'",
                "Validation and testing code, if used, must be available under an OSI-approved license",
                if_used=True),
    Requirement("osaid-1.0", "parameters-osi-terms", ("model-parameters-final",), "osi-terms",
                f"{_OSAID}, Parameters: 'The model parameters ... shall be made available under OSI-approved "
                "terms'", "Model parameters must be available under OSI-approved terms"),
    Requirement("osaid-1.0", "open-data-shared", ("datasets",), "open-data-shared",
                "OSAID FAQ, open training data: 'This must be shared.'",
                "Training data in the 'open' class must be shared", scope="record"),
    Requirement("osaid-1.0", "unshareable-data-described", ("data-card", "technical-report", "research-paper"),
                "unshareable-data-described",
                "OSAID 1.0 Data Information (1): 'the complete description of all data used for training, "
                "including (if used) of unshareable data'",
                "Unshareable training data must be described in detail", scope="record"),
    # --- OWD 0.3 ---------------------------------------------------------------------------------------
    Requirement("owd-0.3", "weights-available", ("model-parameters-final",), "present",
                "OWD 0.3 criterion 2 'Model Weights': 'The product must include the weights' (intermediate "
                "forms such as training checkpoints are not allowed)", "The final weights must be distributed"),
    Requirement("owd-0.3", "free-redistribution", ("model-parameters-final",), "grants-share",
                "OWD 0.3 criterion 1 'Free Redistribution': 'shall not restrict any party from selling or "
                "giving away the weights'", "The weights' license must allow redistribution"),
    Requirement("owd-0.3", "derived-works", ("model-parameters-final",), "grants-modify",
                "OWD 0.3 criterion 3 'Derived Works': 'must allow modifications and derived works'",
                "The weights' license must allow modifications and derived works"),
    Requirement("owd-0.3", "no-discrimination", ("model-parameters-final",), "no-discrimination",
                "OWD 0.3 criterion 5: 'must not discriminate against any person or group of persons'",
                "The weights' license must not discriminate against persons or groups (user caps, "
                "revenue caps, excluded regions)"),
    Requirement("owd-0.3", "no-field-of-use-restriction", ("model-parameters-final",), "no-field-of-use",
                "OWD 0.3 criterion 6: 'must not restrict anyone from making use of the weights in a specific "
                "field of endeavor'", "The weights' license must not restrict fields of endeavor"),
    Requirement("owd-0.3", "distribution-of-license", ("model-parameters-final",), "not-gated",
                "OWD 0.3 criterion 7: rights apply to all recipients 'without the need for execution of an "
                "additional license'", "The weights must be obtainable without accepting an additional agreement"),
    # --- FSF free ML -----------------------------------------------------------------------------------
    Requirement("fsf-free-ml", "training-software-free", ("training-code",), "free",
                "FSF 2024: 'This applies to both the software that processes training data, and the software "
                "that interprets model parameters'", "Training software must be free software"),
    Requirement("fsf-free-ml", "inference-software-free", ("inference-code",), "free",
                "FSF 2024: '... the software that interprets model parameters'",
                "Software that runs the model must be free software"),
    Requirement("fsf-free-ml", "data-processing-scripts-free", ("data-preprocessing-code",), "free",
                "FSF 2024: 'all its training data and the related scripts for processing it respect all users, "
                "following the four freedoms'", "Data processing scripts must be free software"),
    Requirement("fsf-free-ml", "training-data-free", ("datasets",), "free-data",
                "FSF 2024: 'we cannot say a ML application is free unless all its training data ... respect "
                "all users, following the four freedoms'", "All training data must be released under free terms"),
    Requirement("fsf-free-ml", "parameters-free", ("model-parameters-final",), "free",
                "FSF 2024: 'the ML application's release includes the model parameters ... users are permitted "
                "to use and redistribute the parameters and modified versions of them'",
                "Model parameters must be released under terms granting the four freedoms"),
    # --- EU AI Act -------------------------------------------------------------------------------------
    Requirement("eu-ai-act-foss", "weights-public-foss-license", ("model-parameters-final",), "osi-terms",
                "EU AI Act Recital 102: licence 'allows them to be openly shared and where users can freely "
                "access, use, modify and redistribute them'; parameters 'including the weights' made public",
                "The weights must be public under a free and open-source licence"),
    Requirement("eu-ai-act-foss", "architecture-information-public",
                ("model-architecture", "technical-report", "research-paper"), "present",
                "EU AI Act Recital 102: 'the information on the model architecture' made publicly available",
                "Information on the model architecture must be public"),
    Requirement("eu-ai-act-foss", "usage-information-public", ("model-card", "usage-information"), "present",
                "EU AI Act Recital 102: 'information on model usage' made publicly available",
                "Information on model usage must be public"),
    Requirement("eu-ai-act-foss", "not-monetised", (), "not-monetised",
                "EU AI Act Recital 103: components 'provided against a price or otherwise monetised ... should "
                "not benefit from the exceptions'", "The model must not be monetised", scope="record"),
)


def requirements_of(definition_id: str) -> list[Requirement]:
    return [r for r in REQUIREMENTS if r.definition == definition_id]


def definitions_graph() -> rdflib.Graph:
    """Definitions and requirements as data in the ontology."""
    graph = rdflib.Graph()
    for d in DEFINITIONS:
        graph.add((d.iri, RDF.type, OG.Definition))
        graph.add((d.iri, OG.definitionId, Literal(d.id)))
        graph.add((d.iri, RDFS.label, Literal(d.title, lang="en")))
        graph.add((d.iri, DCT.title, Literal(d.title, lang="en")))
        graph.add((d.iri, RDFS.comment, Literal(d.description, lang="en")))
        graph.add((d.iri, RDFS.seeAlso, URIRef(d.url)))
        graph.add((d.iri, OG.resultKind, Literal(d.result)))
        graph.add((d.iri, OG.shapesVersion, Literal(SHAPES_VERSION)))
    for r in REQUIREMENTS:
        graph.add((BY_ID[r.definition].iri, OG.hasRequirement, r.iri))
        graph.add((r.iri, RDF.type, OG.Requirement))
        graph.add((r.iri, OG.requirementId, Literal(r.id)))
        graph.add((r.iri, RDFS.label, Literal(r.message, lang="en")))
        graph.add((r.iri, RDFS.comment, Literal(r.clause, lang="en")))
        graph.add((r.iri, OG.shape, r.shape_iri))
        graph.add((r.iri, SH.severity, SH.Violation if not r.if_used else SH.Warning))
        for kind in r.kinds:
            graph.add((r.iri, OG.appliesToKind, BY_SLUG[kind].iri))
    graph.add((DEFN["mof-1.0"], OG.engineVersion, Literal("mot-8b5d30e", datatype=XSD.string)))
    return graph
