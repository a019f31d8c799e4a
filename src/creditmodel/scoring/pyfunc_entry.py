"""Models-from-code entry point of the creditmodel pyfunc (read by ``mlflow.pyfunc.log_model``)."""
import mlflow.models

from creditmodel.scoring.pyfunc import CreditModelPyfunc

mlflow.models.set_model(CreditModelPyfunc())
