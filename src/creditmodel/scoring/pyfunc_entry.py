"""Models-from-code entry point of the creditmodel pyfunc (read by ``mlflow.pyfunc.log_model``)."""
import warnings

import mlflow.models

from creditmodel.scoring.pyfunc import CreditModelPyfunc

with warnings.catch_warnings():
    # predict takes and returns DataFrames described by the model signature; MLflow's type-hint
    # validation does not apply to it
    warnings.filterwarnings("ignore", message=".*type hints? .*predict", category=UserWarning)
    mlflow.models.set_model(CreditModelPyfunc())
