-- Normalization is versioned (SPEC §13): the version of the vocabulary that
-- made the schema's keys (items' normalized names, description mappings,
-- proposals). `batchimport migrate` re-keys them when it changes, and an
-- import refuses keys of another version. The keys stored before were made
-- by version 1.
CREATE TABLE normalizer (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    version integer NOT NULL
);
INSERT INTO normalizer (version) VALUES (1);
