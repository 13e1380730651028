"""Imports every package's tables so Alembic and create_app see the whole schema."""

from backend.audit.models import AuditCheckpoint, AuditEvent  # noqa: F401
from backend.auth.models import AuthSession, User, UserRole  # noqa: F401
from backend.cases.models import Case, CaseTeamMember  # noqa: F401
from backend.checkins.models import (  # noqa: F401
    CheckIn,
    CheckInFlag,
    CheckInWindowResult,
    FollowUp,
    Recipient,
    ReviewTrigger,
)
from backend.complaints.models import Complaint, ComplaintVerification  # noqa: F401
from backend.devices.models import DeviceKey, DeviceKeyChallenge  # noqa: F401
from backend.dossiers.models import HouseholdDossier  # noqa: F401
from backend.duties.models import CaseDuty  # noqa: F401
from backend.encryption.models import DataKeyCheck  # noqa: F401
from backend.evidence.models import Photo, PhotoHashBand  # noqa: F401
from backend.feeds.models import FeedToken  # noqa: F401
from backend.forms.models import FormVersion  # noqa: F401
from backend.holidays.models import HolidayOverride  # noqa: F401
from backend.households.models import Household, Member, StaffRelative  # noqa: F401
from backend.jurisdictions.models import Jurisdiction, JurisdictionSetting  # noqa: F401
from backend.outbox.models import OutboxEntry, OutboxReceipt  # noqa: F401
from backend.privacy.models import (  # noqa: F401
    BiometricConsent,
    CorrectionRequest,
    ExportAuthorisation,
    PersonalDataRead,
)
from backend.retention.models import (  # noqa: F401
    LegalHold,
    PendingBlobDeletion,
    PurgedSubject,
    RetentionSetting,
)
from backend.reviews.models import ReviewComment, VisitReview  # noqa: F401
from backend.visits.models import (  # noqa: F401
    VisitAttestation,
    VisitFlag,
    VisitPhoto,
    VisitRevision,
    VisitSubmission,
)
from backend.webhooks.models import (  # noqa: F401
    WebhookAttempt,
    WebhookDelivery,
    WebhookNotice,
    WebhookSubscription,
)
from backend.workflow.models import (  # noqa: F401
    AllowanceStandard,
    CaseObjection,
    CaseWorkflow,
    PanelPoolMember,
    PeriodicReview,
    SpotCheck,
    SpotCheckDraw,
)
