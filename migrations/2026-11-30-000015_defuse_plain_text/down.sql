-- Nothing to undo: the zero-width spaces are invisible, and taking them out
-- again would turn text back into markup.
SELECT 1;
