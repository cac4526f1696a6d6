-- Names, descriptions, bios and alt text are plain text, which the API
-- promises never opens an HTML tag: since this release every save puts a
-- zero-width space (U+200B) after a `<` that is followed by a letter, `/`,
-- `!` or `?` (`text::defuse_markup`). This does the same to rows saved
-- before it. Captions and credits of media records are inline HTML, now
-- sanitised on save; rows saved before keep what they hold (a caption is
-- turned into text wherever the API promises text).
UPDATE tags SET name = regexp_replace(name, '<([A-Za-z/!?])', E'<\u200B\\1', 'g'),
                description = regexp_replace(description, '<([A-Za-z/!?])', E'<\u200B\\1', 'g')
 WHERE name ~ '<[A-Za-z/!?]' OR description ~ '<[A-Za-z/!?]';
UPDATE categories SET name = regexp_replace(name, '<([A-Za-z/!?])', E'<\u200B\\1', 'g'),
                      description = regexp_replace(description, '<([A-Za-z/!?])', E'<\u200B\\1', 'g')
 WHERE name ~ '<[A-Za-z/!?]' OR description ~ '<[A-Za-z/!?]';
UPDATE authors SET name = regexp_replace(name, '<([A-Za-z/!?])', E'<\u200B\\1', 'g'),
                   bio = regexp_replace(bio, '<([A-Za-z/!?])', E'<\u200B\\1', 'g')
 WHERE name ~ '<[A-Za-z/!?]' OR bio ~ '<[A-Za-z/!?]';
UPDATE media SET alt = regexp_replace(alt, '<([A-Za-z/!?])', E'<\u200B\\1', 'g')
 WHERE alt ~ '<[A-Za-z/!?]';
