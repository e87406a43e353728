-- Client errors (4xx) answered to requests that leave no request-log row (auth,
-- validation, rate limits, quotas), counted per UTC minute and code by every replica.
CREATE TABLE client_errors (
	minute  DATETIME NOT NULL,
	code    TEXT     NOT NULL,
	answers INTEGER  NOT NULL DEFAULT 0,
	PRIMARY KEY (minute, code)
);
