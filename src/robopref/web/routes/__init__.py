"""HTTP routes: sign-in (`session`), the annotator API (`annotate`) and clips (`clips`)."""
