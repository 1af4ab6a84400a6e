"""Lookalikes: who else writes like, names the brands of and lives where a given candidate does.

``wangzi similar CANDIDATE`` ranks registered candidates and new leads by three similarities
to the candidate, each explained:

* **text** (weight :data:`WEIGHTS` ``text``): cosine of TF-IDF vectors over character 2-3-grams
  of bio and recent post text (``analyzer="char_wb"``, sublinear tf). Character n-grams need
  no word segmenter and no downloaded model, and treat Chinese, Japanese and Latin scripts
  alike ("开箱", "haul" and "Lancôme" are all n-grams). Explained by the shared terms: the
  n-grams that contribute most to the cosine, longest first, none inside another shown one;
* **brands**: Jaccard of the brand sets weighted by brand rarity (idf over the indexed
  documents: two people naming Omorovicza say more than two naming Lancôme). Explained by the
  shared brands, rarest first;
* **overseas signals**: Jaccard of the countries other than mainland China (own country, IP
  location) and the languages other than Chinese the documents show. Explained by the shared
  countries and languages.

A document with none of a part (no brands) scores 0 on it; the parts' weights are fixed so
scores compare across queries. The index is built once (:meth:`LookalikeIndex.build`; sparse
matrices) and answers a query with three sparse products, so one candidate against 100,000
leads is well under a second (benchmarks/discovery.py).

Pure: documents in, ranked matches out.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import MultiLabelBinarizer

from enrichment.brands import default_brands
from enrichment.language import detect_languages
from enrichment.places import country_code

WEIGHTS = {"text": 0.55, "brands": 0.3, "places": 0.15}
#: Characters of text per document (bios and the newest posts come first).
MAX_CHARS = 4000
#: Shared terms shown per match.
SHOWN_TERMS = 5
_NOISE = re.compile(r"https?://\S+|\[[^\]]{1,12}\]")  # links and [emoji] codes say nothing about the person
_WORDLESS = re.compile(r"^[\W\d_]+$")


@dataclass(frozen=True)
class Document:
    """One person (a candidate) or account (a lead) to compare."""

    kind: str  # "candidate" | "lead"
    ident: int
    name: str
    text: str = ""
    brands: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()  # ISO codes other than CN
    languages: frozenset[str] = frozenset()  # ISO 639-1 codes other than zh
    platform: str | None = None
    followers: int | None = None

    @property
    def key(self) -> tuple[str, int]:
        return self.kind, self.ident


@dataclass
class Match:
    """One neighbour and why."""

    document: Document
    score: float
    text: float
    brands: float
    places: float
    shared_terms: list[str] = field(default_factory=list)
    shared_brands: list[str] = field(default_factory=list)
    shared_countries: list[str] = field(default_factory=list)
    shared_languages: list[str] = field(default_factory=list)

    def why(self) -> str:
        """One line: what the two share, strongest evidence first."""
        parts = []
        if self.shared_brands:
            parts.append("brands " + ", ".join(self.shared_brands))
        if self.shared_terms:
            parts.append("terms " + ", ".join(self.shared_terms))
        if self.shared_countries:
            parts.append("countries " + ", ".join(self.shared_countries))
        if self.shared_languages:
            parts.append("languages " + ", ".join(self.shared_languages))
        return "; ".join(parts) or "nothing in common beyond weak text overlap"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.document.kind, "id": self.document.ident, "name": self.document.name,
            "platform": self.document.platform, "followers": self.document.followers,
            "score": round(self.score, 4), "text": round(self.text, 4), "brands": round(self.brands, 4),
            "places": round(self.places, 4), "shared_terms": self.shared_terms, "shared_brands": self.shared_brands,
            "shared_countries": self.shared_countries, "shared_languages": self.shared_languages, "why": self.why(),
        }


# --------------------------------------------------------------------------- documents


def clean(text: str | None) -> str:
    return _NOISE.sub(" ", unicodedata.normalize("NFKC", text or ""))


def overseas(countries: Iterable[str | None]) -> frozenset[str]:
    return frozenset(c for c in countries if c and c != "CN")


def foreign(languages: Iterable[str | None]) -> frozenset[str]:
    return frozenset(lang for lang in languages if lang and lang != "zh")


def candidate_document(candidate_id: int, name: str, accounts: Sequence[Any]) -> Document:
    """A candidate from their accounts' texts (``storage.candidate_texts.AccountTexts``-like rows:
    ``bio``, ``posts`` [(url, text)], ``country``, ``ip_location``, ``platform``, ``followers``)."""
    bios = [a.bio for a in accounts if a.bio]
    posts = [text for a in accounts for _, text in a.posts]
    text = "\n".join([*bios, *posts])[:MAX_CHARS]
    finder = default_brands()
    countries = overseas([a.country for a in accounts] + [country_code(a.ip_location) for a in accounts])
    followers = [a.followers for a in accounts if a.followers is not None]
    return Document(
        kind="candidate", ident=candidate_id, name=name, text=text,
        brands=frozenset(b.name for b in finder.find(text)), countries=countries,
        languages=foreign(detect_languages(posts[:20] + bios)),
        platform=",".join(sorted({a.platform for a in accounts})) or None,
        followers=max(followers) if followers else None,
    )


def lead_document(row: dict[str, Any]) -> Document:
    """A lead from its stored row (``storage.leads.lead_documents``)."""
    name = row.get("display_name") or row.get("handle") or row.get("platform_user_id") or f"lead {row['id']}"
    text = "\n".join(t for t in (row.get("bio"), row.get("texts")) if t)[:MAX_CHARS]
    return Document(
        kind="lead", ident=row["id"], name=name, text=text, brands=frozenset(row.get("brands") or ()),
        countries=overseas([row.get("country"), country_code(row.get("ip_location"))]),
        languages=foreign(row.get("languages") or ()), platform=row.get("platform"), followers=row.get("followers"),
    )


# --------------------------------------------------------------------------- index


def _binary(rows: Sequence[frozenset[str]], vocabulary: dict[str, int]) -> Any:
    """A sparse 0/1 matrix: one row per document, one column per vocabulary item."""
    binarizer = MultiLabelBinarizer(classes=sorted(vocabulary, key=vocabulary.__getitem__), sparse_output=True)
    return binarizer.fit_transform(rows).astype(np.float32).tocsr()


class LookalikeIndex:
    """Documents as three sparse matrices: TF-IDF text, brands (with idf weights) and overseas
    signals. Build once, query many times."""

    def __init__(self, documents: Sequence[Document]) -> None:
        self.documents = list(documents)
        self._row = {doc.key: i for i, doc in enumerate(self.documents)}
        texts = [clean(d.text) for d in self.documents]
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), sublinear_tf=True, dtype=np.float32,
                                          min_df=1)
        self.text: Any = None
        try:
            self.text = self.vectorizer.fit_transform(texts).tocsr()
        except ValueError:  # every document is empty: no vocabulary, text adds nothing
            self.vectorizer = None  # type: ignore[assignment]
        self.terms = self.vectorizer.get_feature_names_out() if self.vectorizer is not None else np.array([])
        brands = sorted({b for d in self.documents for b in d.brands})
        self.brand_vocabulary = {b: i for i, b in enumerate(brands)}
        self.brand_matrix = _binary([d.brands for d in self.documents], self.brand_vocabulary)
        frequency = np.asarray(self.brand_matrix.sum(axis=0)).ravel()
        n = len(self.documents)
        self.brand_weight = np.log((n + 1) / (frequency + 1)).astype(np.float32) + 1.0
        self.brand_total = self.brand_matrix @ self.brand_weight
        places = sorted({f"c:{c}" for d in self.documents for c in d.countries} | {f"l:{x}" for d in self.documents for x in d.languages})
        self.place_vocabulary = {p: i for i, p in enumerate(places)}
        self.place_matrix = _binary([_places(d) for d in self.documents], self.place_vocabulary)
        self.place_total = np.asarray(self.place_matrix.sum(axis=1)).ravel()

    @classmethod
    def build(cls, documents: Iterable[Document]) -> LookalikeIndex:
        return cls(list(documents))

    def __len__(self) -> int:
        return len(self.documents)

    def similar(self, query: Document, top: int = 20, *, kinds: Iterable[str] | None = None) -> list[Match]:
        """The ``top`` documents most like ``query`` (never ``query`` itself), best first."""
        n = len(self.documents)
        if n == 0:
            return []
        q_text: Any = None
        text = np.zeros(n, dtype=np.float32)
        if self.vectorizer is not None:
            q_text = self.text[self._row[query.key]] if query.key in self._row else self.vectorizer.transform([clean(query.text)])
            text = (self.text @ q_text.T).toarray().ravel()
        brands = self._weighted_jaccard(query.brands)
        places = self._jaccard(_places(query))
        score = WEIGHTS["text"] * text + WEIGHTS["brands"] * brands + WEIGHTS["places"] * places
        allowed = set(kinds) if kinds is not None else None
        if query.key in self._row:
            score[self._row[query.key]] = -1.0
        if allowed is not None:
            score[[i for i, d in enumerate(self.documents) if d.kind not in allowed]] = -1.0
        count = min(top, n)
        best = np.argpartition(-score, count - 1)[:count] if count < n else np.arange(n)
        best = sorted(best, key=lambda i: (-score[i], self.documents[i].kind, self.documents[i].ident))
        return [self._match(query, q_text, int(i), float(score[i]), float(text[i]), float(brands[i]), float(places[i]))
                for i in best if score[i] > 0]

    def _weighted_jaccard(self, items: frozenset[str]) -> np.ndarray:
        columns = [self.brand_vocabulary[b] for b in items if b in self.brand_vocabulary]
        n = len(self.documents)
        if not columns:
            return np.zeros(n, dtype=np.float32)
        weights = self.brand_weight[columns]
        inter = self.brand_matrix[:, columns] @ weights
        # brands of the query the index has never seen still belong to its side of the union
        outside = sum(1.0 + math.log(n + 1) for b in items if b not in self.brand_vocabulary)
        union = self.brand_total + weights.sum() + outside - inter
        return np.divide(inter, union, out=np.zeros(n, dtype=np.float32), where=union > 0)

    def _jaccard(self, items: frozenset[str]) -> np.ndarray:
        columns = [self.place_vocabulary[p] for p in items if p in self.place_vocabulary]
        n = len(self.documents)
        if not columns:
            return np.zeros(n, dtype=np.float32)
        inter = np.asarray(self.place_matrix[:, columns].sum(axis=1)).ravel()
        union = self.place_total + len(items) - inter
        return np.divide(inter, union, out=np.zeros(n, dtype=np.float32), where=union > 0)

    def _match(self, query: Document, q_text: Any, row: int, score: float, text: float, brands: float,
               places: float) -> Match:
        doc = self.documents[row]
        shared_brands = sorted(query.brands & doc.brands,
                               key=lambda b: (-self.brand_weight[self.brand_vocabulary[b]] if b in self.brand_vocabulary else 0, b))
        return Match(
            document=doc, score=score, text=text, brands=brands, places=places,
            shared_terms=self._shared_terms(q_text, row, query.text), shared_brands=shared_brands,
            shared_countries=sorted(query.countries & doc.countries), shared_languages=sorted(query.languages & doc.languages),
        )

    def _shared_terms(self, q_text: Any, row: int, query_text: str) -> list[str]:
        """The n-grams that add most to the text cosine, grown to the longest run of text both
        documents share around them (so "sk-" reads "sk-ii"), trimmed; none inside another
        shown term, none without a letter."""
        if q_text is None:
            return []
        product = q_text.multiply(self.text[row]).tocoo()
        ranked = sorted(zip(product.data, product.col), key=lambda pair: -pair[0])
        mine, theirs = clean(query_text).casefold(), clean(self.documents[row].text).casefold()
        shown: list[str] = []
        for _, column in ranked[:60]:
            term = _grown(str(self.terms[column]).strip(), mine, theirs)
            if len(term) < 2 or _WORDLESS.match(term) or (term.isascii() and len(term.strip(' -')) < 3) \
                    or any(term in s for s in shown):
                continue
            shown = [s for s in shown if s not in term]
            shown.append(term)
            if len(shown) >= SHOWN_TERMS:
                break
        return shown


#: Longest shared term shown (characters).
MAX_TERM = 24
_BREAK = "\n,.;:!?()[]{}|，。；：！？（）【】、｜#@"


def _grown(term: str, mine: str, theirs: str) -> str:
    """``term`` extended to the longest text around it that both texts hold (first occurrences,
    never across a line or punctuation), trimmed to whole words at Latin edges."""
    if not term:
        return term
    best = term
    for i in _occurrences(mine, term):
        for j in _occurrences(theirs, term):
            start_i, start_j, end_i, end_j = i, j, i + len(term), j + len(term)
            while start_i > 0 and start_j > 0 and mine[start_i - 1] == theirs[start_j - 1] and mine[start_i - 1] not in _BREAK:
                start_i, start_j = start_i - 1, start_j - 1
            while end_i < len(mine) and end_j < len(theirs) and mine[end_i] == theirs[end_j] and mine[end_i] not in _BREAK:
                end_i, end_j = end_i + 1, end_j + 1
            grown = mine[start_i:end_i]
            if len(grown) > len(best):
                best = grown
    best = " ".join(best.split())
    return best[:MAX_TERM].strip()


def _occurrences(text: str, term: str, limit: int = 3) -> list[int]:
    found: list[int] = []
    start = text.find(term)
    while start != -1 and len(found) < limit:
        found.append(start)
        start = text.find(term, start + 1)
    return found


def _places(doc: Document) -> frozenset[str]:
    return frozenset({f"c:{c}" for c in doc.countries} | {f"l:{x}" for x in doc.languages})
