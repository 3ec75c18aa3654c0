"""`bigquery://project[/dataset][?location=EU]` (google-cloud-bigquery, the `bigquery` extra).

Credentials are Google's Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth).
The model's schema is a dataset of the project. A run is one BigQuery session, so the loads' temporary
tables and transactions work; sources are loaded as Parquet load jobs.
"""

from __future__ import annotations

import os
import tempfile

from .base import Result, RunError, Target, missing_connector, parse_url, query_params


class BigQueryTarget(Target):
    scheme = "bigquery"
    dialect = "bigquery"

    def __init__(self, url: str, connect: bool = True):
        self.url = url
        parts = parse_url(url)
        if not parts.hostname:
            raise RunError("a bigquery target is bigquery://project[/dataset]")
        self.project = parts.netloc
        self.dataset = parts.path.strip("/") or None
        self.location = query_params(parts).get("location")
        self.client = None
        self.session_id: str | None = None
        if connect:
            try:
                from google.cloud import bigquery
            except ImportError:
                raise missing_connector("bigquery", "google-cloud-bigquery", "bigquery") from None
            self.bq = bigquery
            self.client = bigquery.Client(project=self.project, location=self.location)

    def _config(self):
        bq = self.bq
        config = bq.QueryJobConfig()
        if self.dataset:
            config.default_dataset = f"{self.project}.{self.dataset}"
        if self.session_id is None:
            config.create_session = True
        else:
            config.connection_properties = [bq.ConnectionProperty("session_id", self.session_id)]
        return config

    def _run(self, sql: str):
        job = self.client.query(sql, job_config=self._config())
        rows = job.result()
        if self.session_id is None and job.session_info is not None:
            self.session_id = job.session_info.session_id
        return rows

    def execute(self, sql: str) -> None:
        self._run(sql)

    def query(self, sql: str) -> Result:
        rows = self._run(sql)
        return Result(tuple(f.name for f in rows.schema), [tuple(r.values()) for r in rows])

    def begin(self) -> None:
        self.execute("BEGIN TRANSACTION")

    def commit(self) -> None:
        self.execute("COMMIT TRANSACTION")

    def rollback(self) -> None:
        self.execute("ROLLBACK TRANSACTION")

    def close(self) -> None:
        if self.client is not None:
            if self.session_id is not None:
                self.client.query(f"CALL BQ.ABORT_SESSION('{self.session_id}')").result()
            self.client.close()

    def columns(self) -> dict[tuple[str, str], set[str]]:
        out: dict[tuple[str, str], set[str]] = {}
        for ds in self.client.list_datasets(self.project):
            rows = self.query(
                f"SELECT table_schema, table_name, column_name FROM `{self.project}.{ds.dataset_id}`"
                ".INFORMATION_SCHEMA.COLUMNS"
            ).rows
            for schema, table, column in rows:
                out.setdefault((schema, table), set()).add(column)
        return out

    def load_rows(self, reader, select: str, source, table: str) -> int:
        bq = self.bq
        fd, path = tempfile.mkstemp(suffix=".parquet", prefix="modelc_")
        os.close(fd)
        try:
            reader.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet)")
            config = bq.LoadJobConfig(
                source_format=bq.SourceFormat.PARQUET, write_disposition=bq.WriteDisposition.WRITE_TRUNCATE
            )
            with open(path, "rb") as f:
                job = self.client.load_table_from_file(
                    f, f"{self.project}.{source.schema}.{source.table}", job_config=config
                )
            return int(job.result().output_rows or 0)
        finally:
            os.unlink(path)
