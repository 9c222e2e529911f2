ALTER TABLE "definition_versions" ALTER COLUMN "ir" SET DATA TYPE json USING "ir"::json;
