# The chat page (S3 behind CloudFront with origin access control), Cognito sign-in (hosted UI,
# authorization code with PKCE for a public client, optional MFA) and the WAF web ACLs for
# CloudFront and for the API's ALB.

module "site" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.11.0"

  bucket        = var.site_bucket
  force_destroy = var.force_destroy

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true

  control_object_ownership = true
  object_ownership         = "BucketOwnerEnforced"

  versioning = { enabled = true }

  # SSE-S3: CloudFront's origin access control reads SSE-KMS objects only with a key policy
  # for it; the page is public content, encryption at rest is what matters here.
  server_side_encryption_configuration = {
    rule = {
      apply_server_side_encryption_by_default = {
        sse_algorithm = "AES256"
      }
    }
  }

  attach_deny_insecure_transport_policy = true
  attach_policy                         = true
  policy                                = data.aws_iam_policy_document.site.json

  tags = var.tags
}

data "aws_iam_policy_document" "site" {
  statement {
    sid       = "CloudFrontOriginAccessControl"
    actions   = ["s3:GetObject"]
    resources = ["${module.site.s3_bucket_arn}/*"]
    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [module.cdn.cloudfront_distribution_arn]
    }
  }
}

module "cdn" {
  source  = "terraform-aws-modules/cloudfront/aws"
  version = "4.1.0"

  comment             = "${var.name} chat page"
  aliases             = var.site_aliases
  enabled             = true
  is_ipv6_enabled     = true
  price_class         = "PriceClass_100"
  default_root_object = "index.html"
  web_acl_id          = aws_wafv2_web_acl.cloudfront.arn

  create_origin_access_control = true
  origin_access_control = {
    site = {
      description      = "${var.name} chat page bucket"
      origin_type      = "s3"
      signing_behavior = "always"
      signing_protocol = "sigv4"
    }
  }

  origin = {
    site = {
      domain_name           = module.site.s3_bucket_bucket_regional_domain_name
      origin_access_control = "site"
    }
  }

  default_cache_behavior = {
    target_origin_id       = "site"
    viewer_protocol_policy = "redirect-to-https"
    allowed_methods        = ["GET", "HEAD", "OPTIONS"]
    cached_methods         = ["GET", "HEAD"]
    compress               = true
    use_forwarded_values   = false
    # Managed-CachingOptimized and Managed-SecurityHeadersPolicy.
    cache_policy_id            = "658327ea-f89d-4fab-a63d-7e88639e58f6"
    response_headers_policy_id = "67f7725c-6f97-4210-82d7-5512b31e9d03"
  }

  # The chat page is a single-page app: unknown paths serve index.html.
  custom_error_response = [{
    error_code         = 403
    response_code      = 200
    response_page_path = "/index.html"
  }]

  viewer_certificate = var.acm_certificate_arn == null ? {
    cloudfront_default_certificate = true
    minimum_protocol_version       = "TLSv1.2_2021"
    } : {
    acm_certificate_arn      = var.acm_certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }

  tags = var.tags
}

data "aws_region" "current" {}
