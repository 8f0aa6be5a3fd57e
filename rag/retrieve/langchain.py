"""The hybrid retriever as a LangChain `BaseRetriever`, so it composes with LangChain chains.

    from rag.retrieve.langchain import RagRetriever
    retriever = RagRetriever.from_index(Path(".rag-index"), k=5)
    docs = retriever.invoke("How many children were abused in Rotherham?")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from embeddings.base import register_with_langchain
from rag.retrieve.hybrid import Retriever
from rag.store.factory import open_store
from rag.store.filters import DocumentFilter

#: Where LangChain is in use, the project's embedders are LangChain `Embeddings` too.
register_with_langchain()


class RagRetriever(BaseRetriever):
    """Returns passages as Documents whose metadata carries chunk id, source, title and offsets."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Any
    k: int = 5
    #: Which articles to draw on (dates, outlets, sources); None: all.
    where: DocumentFilter | None = None

    @classmethod
    def from_index(
        cls, index: Path | str, *, mode: str = "hybrid", k: int = 5, where: DocumentFilter | None = None
    ) -> "RagRetriever":
        """A retriever over the index at a directory or store URI (see rag.store.factory)."""
        return cls(retriever=Retriever(open_store(index), mode), k=k, where=where)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        assert isinstance(self.retriever, Retriever)
        passages = self.retriever.search(query, self.k, where=self.where).passages
        return [
            Document(
                page_content=p.text,
                metadata={
                    "rank": p.rank,
                    "chunk_id": p.chunk_id,
                    "source": p.source,
                    "title": p.title,
                    "start": p.start,
                    "end": p.end,
                    "score": p.score,
                    "bm25_rank": p.bm25_rank,
                    "dense_rank": p.dense_rank,
                },
            )
            for p in passages
        ]
