"""Fit the extractive answerer's sentence-scoring weights on SQuAD's answerable questions.

For every answerable question, each sentence of the top-5 lexical passages is described by
its question coverage (hit), its neighbours' coverage (near), whether it holds the kind of
thing asked for (typed), its passage rank and its length; a grid search reports which
weights pick a sentence holding the gold answer most often. rag/extractive.py uses the best.

    .venv/bin/python bench/extractive_weights.py
"""
import itertools
import math
import sys
import tempfile
from pathlib import Path

from rag.answer.assistant import Assistant
from rag.evaluation.squad import load_squad
from rag.store import database as store
from rag.text.sentences import sentence_spans
from rag.answer.language.answer_types import has_type, question_type
from rag.text.terms import content_terms, term_weights, terms, words, STOP_WORDS
import rag.answer.extractive as X
from rag.evaluation.metrics import contains_answer
from rag.evaluation.squad import write_corpus
from rag.ingest.pipeline import ingest

DEFAULT = Path(__file__).resolve().parents[1] / "eval" / "squad2-dev-5articles.json"
docs, qs = load_squad(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
tmp = Path(tempfile.mkdtemp(prefix="rag-weights-"))
write_corpus(docs, tmp / "corpus")
ingest([tmp / "corpus"], tmp / "index", embedder_spec="offline", progress=False)
a = Assistant(tmp / "index", mode="lexical")
ans=[q for q in qs if q.answerable]
N=a.index.manifest.chunks
pre=[]
for q in ans:
    ps=a.retriever.search(q.question,5).passages
    qt=content_terms(q.question); df=store.document_frequencies(a.index.conn,qt)
    w=term_weights(qt,df,N); tot=sum(w.values()) or 1
    kind=question_type(q.question); qw=set(words(q.question))
    cands=[]
    for p in ps:
        sp=sentence_spans(p.text)
        tl=[set(terms(p.text[s:e])) for s,e in sp]
        for i,(s,e) in enumerate(sp):
            st=tl[i]; ctx=set().union(*[tl[j] for j in (i-1,i+1) if 0<=j<len(sp)]) if len(sp)>1 else set()
            hit=sum(v for t,v in w.items() if t in st)/tot
            near=sum(v for t,v in w.items() if t in ctx and t not in st)/tot
            typed=has_type(p.text[s:e],kind,qw)
            novel=len(st-set(qt)-X._STOP_TERMS)
            cands.append((p.rank,hit,near,typed,novel,e-s,contains_answer(p.text[s:e],q.answers)))
    pre.append(cands)
def evaluate(wn, wt, wr, wl):
    ok=0
    for c in pre:
        if not c: continue
        best=max(c,key=lambda x: x[1]+wn*x[2]+wt*x[3]+wr/x[0]-wl*math.log(1+x[5]/100) + (0 if x[4]>0 else -.5))
        ok+=best[6]
    return ok/len(ans)
res=[]
for wn,wt,wr,wl in itertools.product((0,.25,.5),(0,.15,.3,.5),(0,.05,.1,.2),(0,.05,.1)):
    res.append((evaluate(wn,wt,wr,wl),wn,wt,wr,wl))
res.sort(reverse=True)
for r in res[:8]: print(r)
print('in use (near, typed, rank, length):', evaluate(.25, .15, .05, 0))
